"""Puts the PII and secret filters on every handler that writes this process's log lines.

Both filters mask a record's message and traceback before any formatter sees it; the
request-context filter stamps the request id on the record while still in the code that
logged. ``log_mask`` is the same masking as a function, for what the filters do not
see (the JSON formatter's extra fields).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from governance.pii_log_filter import PiiLogFilter, redact_structured
from governance.pii_recognizers import STRUCTURED_TYPES
from kernel.errors import ConfigurationError
from kernel.models_config import load_models_file
from kernel.settings import PiiSettings, Settings
from observability.log_format import RequestContextFilter
from observability.secret_masking import SecretLogFilter

# uvicorn's loggers write through handlers of their own and do not propagate to root
# when uvicorn configures its logging (``uvicorn --factory``; ``ragline serve`` does not).
_WRITERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


def known_secrets(settings: Settings) -> Iterator[str]:
    """Every secret value this process was configured with, to be masked wherever it shows."""
    keys: list[str] = []
    # A malformed key map is refused where it is read; there is nothing to mask from it.
    with contextlib.suppress(ConfigurationError):
        keys = list(settings.key_identities())
    yield from keys
    for secret in (
        settings.fingerprint_secret,
        settings.qdrant.api_key,
        settings.s3.access_key_id,
        settings.s3.secret_access_key,
    ):
        if secret is not None and secret.get_secret_value():
            yield secret.get_secret_value()
    for url in (settings.database_url, settings.broker.url, settings.qdrant.url):
        password = urlsplit(url).password if url else None
        if password:
            yield password
    if settings.models_file is not None:
        try:
            deployments = load_models_file(settings.models_file).deployments
        except (ConfigurationError, OSError):
            deployments = []
        for deployment in deployments:
            value = os.environ.get(deployment.api_key_env or "")
            if value:
                yield value


def mask_logs(settings: Settings | None) -> SecretLogFilter:
    """Idempotent: a handler that already masks is left alone, but learns new secrets
    (the local key created after logging was configured). Returns the secret filter."""
    pii = settings.pii if settings is not None else PiiSettings()
    secrets = list(known_secrets(settings)) if settings is not None else []
    masking = PiiLogFilter.from_settings(pii)
    hiding = SecretLogFilter(secrets)
    stamping = RequestContextFilter()
    for name in _WRITERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, PiiLogFilter) for f in handler.filters):
                handler.addFilter(masking)
            present = [f for f in handler.filters if isinstance(f, SecretLogFilter)]
            for existing in present:
                existing.add_known(secrets)
            if not present:
                handler.addFilter(hiding)
            if not any(isinstance(f, RequestContextFilter) for f in handler.filters):
                handler.addFilter(stamping)
    return hiding


def log_mask(settings: Settings | None, secrets: SecretLogFilter) -> Callable[[str], str]:
    """PII redaction then secret masking, as one function over a string."""
    wanted = (settings.pii if settings is not None else PiiSettings()).entities
    types = tuple(t for t in wanted if t in STRUCTURED_TYPES)

    def mask(text: str) -> str:
        return secrets.mask(redact_structured(text, types))

    return mask
