"""Secrets never reach a log line: by shape, and by the values the process was given."""

from __future__ import annotations

import logging

import pytest

from observability.secret_masking import SECRET, SecretLogFilter, mask_secret_shapes


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "postgresql+psycopg://ragline:hunter22@postgres:5432/ragline",
            f"postgresql+psycopg://ragline:{SECRET}@postgres:5432/ragline",
        ),
        ("redis://:s3cr3t-pw@redis:6379/0", f"redis://:{SECRET}@redis:6379/0"),
        ("Authorization: Bearer abcdef123456", f"Authorization: Bearer {SECRET}"),
        ("sent Bearer abcdef123456 along", f"sent Bearer {SECRET} along"),
        ("key rk_" + "A" * 43 + " created", f"key {SECRET} created"),
        ("local rl-" + "b" * 32, f"local {SECRET}"),
        ("provider sk-proj-" + "c" * 40, f"provider {SECRET}"),
        ("aws AKIAIOSFODNN7EXAMPLE used", f"aws {SECRET} used"),
        ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl", f"jwt {SECRET}"),
        ('{"api_key": "abc123xyz"}', f'{{"api_key": "{SECRET}"}}'),
        ("password=pa55word&x=1", f"password={SECRET}&x=1"),
    ],
)
def test_secret_shapes_are_masked(text: str, masked: str) -> None:
    assert mask_secret_shapes(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "GET /documents/{document_id} 200 3.1ms key=k-1a2b3c request_id=abc",
        "prompt_tokens=12 completion_tokens=40",
        "https://example.com/path?q=1",
        "document doc-1 ingested: indexed (3 chunks, 0 attachments)",
    ],
)
def test_ordinary_lines_are_left_alone(text: str) -> None:
    assert mask_secret_shapes(text) == text


def test_configured_values_are_masked_whatever_their_shape_and_short_ones_ignored() -> None:
    masking = SecretLogFilter(["team-admin-key-42", "short"])
    assert masking.mask("used team-admin-key-42 twice: team-admin-key-42") == (
        f"used {SECRET} twice: {SECRET}"
    )
    assert masking.mask("a short word") == "a short word"
    masking.add_known(["created-later-key"])
    assert masking.mask("created-later-key") == SECRET


def test_the_filter_masks_message_args_and_traceback_and_keeps_clean_records_as_they_are() -> None:
    masking = SecretLogFilter(["configured-secret-1"])
    logger = logging.getLogger("ragline.test")
    clean = logger.makeRecord("t", logging.INFO, "f", 1, "n=%d", (3,), None)
    assert masking.filter(clean) and clean.args == (3,)
    try:
        raise RuntimeError("connect redis://:configured-secret-1@h/0")
    except RuntimeError:
        import sys

        rec = logger.makeRecord(
            "t", logging.ERROR, "f", 1, "key %s", ("configured-secret-1",), sys.exc_info()
        )
    assert masking.filter(rec)
    assert rec.getMessage() == f"key {SECRET}" and rec.args is None
    assert rec.exc_text is not None and "configured-secret-1" not in rec.exc_text
