"""One error hierarchy for the whole service.

Domain code raises these; the API maps ``code`` to an HTTP status in one handler
(``api/errors.py``) and the CLI prints ``message``. Messages are written for the
user who caused the error, never carry a stack trace, and never echo a secret.

    RaglineError
    ├── ConfigurationError        settings refused at start-up
    ├── AuthenticationError       no key / unknown key            -> 401
    ├── PermissionDeniedError     key lacks the role              -> 403
    ├── NotFoundError             bucket / document unknown       -> 404
    ├── ConflictError             bucket already exists           -> 409
    │   └── SupersededError       a slower ingestion attempt lost to a newer version
    ├── InvalidInputError         request that cannot be served   -> 422
    ├── PayloadTooLargeError      upload over the size limit      -> 413
    ├── BudgetExceededError       a team or key over its hard budget -> 429
    ├── DocumentError             one document cannot be ingested (recorded, not raised to clients)
    │   ├── UnsupportedFormatError
    │   ├── EncryptedDocumentError
    │   ├── EmptyDocumentError
    │   ├── CorruptDocumentError
    │   ├── ParseLimitError       time or memory limit hit while parsing
    │   ├── PersonalDataRefusedError
    │   └── ObjectMissingError    the object left the bucket before it was ingested
    └── DependencyUnavailableError  index / database / broker down -> 503
"""

from __future__ import annotations


class RaglineError(Exception):
    """Base class; ``code`` is stable and machine-readable, ``message`` is for people."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(RaglineError):
    code = "configuration_error"


class AuthenticationError(RaglineError):
    code = "unauthenticated"


class PermissionDeniedError(RaglineError):
    code = "permission_denied"


class NotFoundError(RaglineError):
    code = "not_found"


class ConflictError(RaglineError):
    code = "conflict"


class SupersededError(ConflictError):
    code = "superseded"


class InvalidInputError(RaglineError):
    code = "invalid_input"


class PayloadTooLargeError(RaglineError):
    code = "payload_too_large"


class DocumentError(RaglineError):
    """A single document cannot be ingested; the registry records ``code`` and ``message``."""

    code = "document_error"


class UnsupportedFormatError(DocumentError):
    code = "unsupported_format"


class EncryptedDocumentError(DocumentError):
    code = "encrypted_document"


class EmptyDocumentError(DocumentError):
    code = "empty_document"


class CorruptDocumentError(DocumentError):
    code = "corrupt_document"


class ParseLimitError(DocumentError):
    code = "parse_limit_exceeded"


class PersonalDataRefusedError(DocumentError):
    """The bucket's policy refuses documents holding personal data (``pii: block``)."""

    code = "personal_data_refused"


class ObjectMissingError(DocumentError):
    """The registered object is no longer in its bucket (removed before ingestion reached it)."""

    code = "object_missing"


class BudgetExceededError(RaglineError):
    code = "budget_exceeded"


class DependencyUnavailableError(RaglineError):
    code = "dependency_unavailable"

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
