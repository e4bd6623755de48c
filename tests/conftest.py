"""Fixtures shared by every tier: settings under tmp_path, and one loaded model per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("SCARF_NO_ANALYTICS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from kernel.settings import Settings
from tests.s3_double import s3_bucket, s3_endpoint  # noqa: F401  (the S3 double's fixtures)

ADMIN_KEY = "test-admin-key"
HR_KEY = "test-hr-key"
ENG_KEY = "test-eng-key"
NOBODY_KEY = "test-no-roles-key"
KEYS = {
    ADMIN_KEY: ["admin", "public"],
    HR_KEY: ["hr", "public"],
    ENG_KEY: ["eng", "public"],
    NOBODY_KEY: [],
}


def pytest_configure(config: pytest.Config) -> None:
    from tests.thread_trace_race import install

    install()


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    import json

    values: dict[str, object] = {
        "data_dir": data_dir,
        "api_keys": json.dumps(KEYS),
        # Names and places need the spaCy model (seconds to load per runtime): only the
        # tests about personal data turn it on; structured identifiers are always found.
        "pii": {"names_and_locations": False},
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from retrieval.dense import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield make_settings(tmp_path / "data")
