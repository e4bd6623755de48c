"""A stand-in for S3: moto's S3 server on loopback, and a fresh S3 bucket per test.

S3 itself cannot run here. moto's server speaks the S3 REST API over real HTTP, so
the adapter under test keeps its real boto3 client: signing, pagination, error codes
and conditional writes all cross a socket. It is a double, not S3: it does not
enforce permissions (tests of AccessDenied use botocore's Stubber instead).

Import the fixtures where they are used (``tests/conftest.py`` makes them global).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from kernel.settings import S3Settings

# Fake credentials: the double accepts any; tests look for them in logs and errors.
DOUBLE_KEY_ID = "AKIADOUBLEKEYID00001"
DOUBLE_SECRET = "double-secret-4f6c1d0e-never-logged"


@dataclass(frozen=True, slots=True)
class S3Double:
    """One fresh bucket in the S3 double; ``client`` arranges objects as another party would."""

    endpoint_url: str
    bucket: str
    settings: S3Settings  # allows the whole bucket
    client: Any


def double_settings(endpoint_url: str, allowed_sources: list[str]) -> S3Settings:
    return S3Settings(
        endpoint_url=endpoint_url,
        region="us-east-1",
        access_key_id=SecretStr(DOUBLE_KEY_ID),
        secret_access_key=SecretStr(DOUBLE_SECRET),
        allowed_sources=allowed_sources,
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The S3 double's endpoint URL: moto's server on 127.0.0.1, a free port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> Iterator[S3Double]:
    """A new, empty bucket in the S3 double and settings that allow all of it."""
    name = f"ragline-test-{uuid.uuid4().hex[:16]}"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=DOUBLE_KEY_ID,
        aws_secret_access_key=DOUBLE_SECRET,
    )
    client.create_bucket(Bucket=name)
    try:
        yield S3Double(
            endpoint_url=s3_endpoint,
            bucket=name,
            settings=double_settings(s3_endpoint, [f"s3://{name}"]),
            client=client,
        )
    finally:
        client.close()
