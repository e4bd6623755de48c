"""Files once read as the wrong format (issue 19), through the real parser and chunkers.

NDJSON was read as CSV (records split at commas), source code as Markdown (``#``
comments became headings), YAML as text (every ``key:`` a heading), and an S/MIME
signature part was sniffed as XML and failed. Each file here is parsed in the
real child process and chunked with the embedding model's own tokenizer, and the
chunk texts are checked.
"""

from __future__ import annotations

import datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from chunking import chunks

from chunkers.registry import resolve_doc_type
from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser
from kernel.errors import UnsupportedFormatError

pytestmark = pytest.mark.service


def test_ndjson_records_stay_whole(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    source = tmp_path / "customers.ndjson"
    people = [("Smith, John", "Paris, France"), ("Doe, Jane", "Lyon, France")]
    people += [(f"Roe{n}, Rick", f"Nice, Alpes-Maritimes, France {n}") for n in range(60)]
    source.write_text(
        "".join(
            f'{{"id": {i}, "name": "{name}", "address": {{"city": "{city}"}}}}\n'
            for i, (name, city) in enumerate(people)
        )
    )
    document = parser.parse(source)
    assert document.format == "jsonl"
    assert len(document.elements) == len(people)  # one element per record
    assert document.elements[0].text == (
        "[0].id: 0\n[0].name: Smith, John\n[0].address.city: Paris, France"
    )
    drafts = chunks(document, tokens)
    assert len(drafts) > 1
    text = "\n".join(draft.text for draft in drafts)
    for index, (name, city) in enumerate(people):
        # each value whole on its line: nothing cut at a comma
        assert f"[{index}].name: {name}" in text
        assert f"[{index}].address.city: {city}" in text
    assert not any(line.strip().startswith(("John", "France")) for line in text.splitlines())


PYTHON = '''#!/usr/bin/env python
# Totals for the monthly report
"""Sum the rows of a sales export."""

import csv


# Read every row
def read_rows(path):
    # skip the header line
    with open(path) as handle:
        reader = csv.reader(handle)
        next(reader)
        return [float(row[1]) for row in reader]


def total(rows):
    # the sum, rounded to cents
    return round(sum(rows), 2)
'''


@pytest.mark.parametrize("name", ["report.py", "report.sh"])
def test_source_code_comments_are_no_headings_and_functions_stay_whole(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter, name: str
) -> None:
    source = tmp_path / name
    source.write_text(PYTHON)
    document = parser.parse(source)
    assert document.format == "code"
    assert {element.kind for element in document.elements} == {"code"}
    assert document.title is None
    drafts = chunks(document, tokens)
    assert resolve_doc_type(None, document) == "product_docs"
    assert all(not draft.section for draft in drafts)
    text = "\n".join(draft.text for draft in drafts)
    assert "# Totals for the monthly report" in text
    function = PYTHON[PYTHON.index("# Read every row") : PYTHON.index("\n\n\ndef total")]
    assert any(function in draft.text for draft in drafts)


YAML = """# Service settings
server:
  host: 0.0.0.0
  port: 8080
  tls:
    enabled: true
logging:
  level: info
  sinks:
    - stdout
    - file
databases:
  - name: registry
    url: postgresql://db/registry
"""


def test_yaml_keys_are_no_headings(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    source = tmp_path / "settings.yml"
    source.write_text(YAML)
    document = parser.parse(source)
    assert document.format == "yaml"
    assert not [element for element in document.elements if element.kind == "title"]
    drafts = chunks(document, tokens)
    assert all(not draft.section for draft in drafts)
    text = "\n".join(draft.text for draft in drafts)
    for line in (
        "server.host: 0.0.0.0",
        "server.port: 8080",
        "server.tls.enabled: true",
        "logging.sinks: stdout, file",
        "databases[0].url: postgresql://db/registry",
    ):
        assert line in text


def test_a_yaml_template_that_is_not_yaml_is_kept_as_text_without_headings(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "deployment.yaml"
    source.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        '  labels: {{- include "labels" . | nindent 4 }}\nspec:\n  replicas: 2\n'
    )
    document = parser.parse(source)
    assert document.format == "yaml"
    assert not [element for element in document.elements if element.kind == "title"]
    assert "replicas: 2" in document.text


def signed_email(tmp_path: Path) -> bytes:
    """A real S/MIME signed message (multipart/signed with a DER smime.p7s)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ann@example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    body = (
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"The quarterly figures are final, please review them.\r\n"
    )
    smime = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(body)
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    )
    headers = b"From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: Figures\r\n"
    return headers + smime


def test_an_smime_signature_part_is_not_a_document(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    data = signed_email(tmp_path)
    message = message_from_bytes(data, policy=policy.default)
    assert "application/x-pkcs7-signature" in {part.get_content_type() for part in message.walk()}
    source = tmp_path / "signed.eml"
    source.write_bytes(data)
    document = parser.parse(source)
    assert document.format == "eml"
    assert document.attachments == ()
    drafts = chunks(document, tokens)
    text = "\n".join(draft.text for draft in drafts)
    assert "The quarterly figures are final" in text
    assert "p7s" not in text and "MII" not in text

    (signature,) = [
        part
        for part in message.walk()
        if part.get_content_type() == "application/x-pkcs7-signature"
    ]
    der = signature.get_payload(decode=True)
    assert isinstance(der, bytes)
    p7s = tmp_path / "smime.p7s"
    p7s.write_bytes(der)
    with pytest.raises(UnsupportedFormatError, match="digital signature"):
        parser.parse(p7s)
    nameless = tmp_path / "blob"
    nameless.write_bytes(der)
    with pytest.raises(UnsupportedFormatError, match="digital signature"):
        parser.parse(nameless)
