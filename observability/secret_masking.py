"""A logging filter that keeps secrets out of every log line.

Two nets, because neither alone is enough. Shapes: ragline's own keys (``rk_`` managed,
``rl-`` local), provider keys (``sk-``), bearer values, JWTs, AWS access key ids,
``password=``/``token:``-style pairs and the password in a connection URL, whatever
process they come from. Values: the secrets this process was configured with (its API
keys, the fingerprint secret, the Qdrant and S3 keys, the passwords in its database and
broker URLs), replaced wherever they appear whatever their shape. A configured value
shorter than :data:`MIN_KNOWN_CHARS` is not searched for: it would mask ordinary words
(and a key that short is its own problem).

Like ``governance.pii_log_filter``, it goes on handlers, not loggers, so it sees every
record the handler writes; the shell installs both (``ragline.log_masking``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["MIN_KNOWN_CHARS", "SECRET", "SecretLogFilter", "mask_secret_shapes"]

SECRET = "<SECRET>"  # noqa: S105 (the placeholder, not a password)
MIN_KNOWN_CHARS = 8

# (pattern, replacement): the replacement keeps what says what was there, never the value.
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:password@ in any URL (PostgreSQL, Redis, AMQP, HTTP); the user name stays.
    (re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*):[^\s/@]+@"), rf"\1:{SECRET}@"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {SECRET}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), SECRET),
    (re.compile(r"\b(?:rk_|rl-|sk-)[A-Za-z0-9_-]{16,}"), SECRET),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), SECRET),
    (
        re.compile(
            r"(?i)\b((?:api[_-]?key|x-api-key|password|passwd|pwd|secret|token|"
            r"access[_-]?key|secret[_-]?access[_-]?key|authorization)"
            r"[\"']?\s*[=:]\s*[\"']?)(?!<SECRET>|(?:bearer|basic)\s)[^\s\"',;&}]+"
        ),
        rf"\1{SECRET}",
    ),
)


def mask_secret_shapes(text: str) -> str:
    """``text`` with every secret-shaped value replaced by ``<SECRET>``."""
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class SecretLogFilter(logging.Filter):
    """Masks secrets in a record's formatted message, its traceback and its stack text.

    A record with nothing to mask is left exactly as it came; one with something gets
    its message formatted once, masked, and its args dropped. Never drops a record.
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__()
        self._known: set[str] = set()
        self._known_pattern: re.Pattern[str] | None = None
        self.add_known(known)

    def add_known(self, values: Iterable[str]) -> None:
        """Also mask these exact values (a key created after start-up, for instance)."""
        fresh = {v for v in values if len(v) >= MIN_KNOWN_CHARS} - self._known
        if not fresh:
            return
        self._known |= fresh
        # Longest first, so a secret that contains another is masked whole.
        alternatives = sorted(self._known, key=len, reverse=True)
        self._known_pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def mask(self, text: str) -> str:
        if self._known_pattern is not None:
            text = self._known_pattern.sub(SECRET, text)
        return mask_secret_shapes(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a message that does not format is logging's error to report
        masked = self.mask(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True
