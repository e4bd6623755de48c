"""PII detection and redaction: the validated identifiers, the hard negatives, the sessions.

Structured identifiers run without the model (``names_and_locations`` off); the tests
marked ``service`` load the real offline spaCy pipeline through Presidio, once per module.
"""

from __future__ import annotations

import itertools
import threading

import pytest

from governance.pii import (
    PiiDetector,
    PiiFinding,
    PiiPolicy,
    Redaction,
    redact_text,
)
from kernel.errors import ConfigurationError
from kernel.settings import PiiSettings

STRUCTURED_ONLY = PiiSettings(names_and_locations=False)


@pytest.fixture(scope="module")
def structured() -> PiiDetector:
    return PiiDetector(STRUCTURED_ONLY)


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector(PiiSettings())


def found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(f.entity_type, text[f.start : f.end]) for f in detector.find(text)]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "entity_type", "value"),
    [
        (
            "mail maria.gonzalez@northwind-traders.com today",
            "EMAIL",
            "maria.gonzalez@northwind-traders.com",
        ),
        ("cc audit+q3@acme.co.uk.", "EMAIL", "audit+q3@acme.co.uk"),
        ("Call me on (415) 728-3910 after 5pm.", "PHONE", "(415) 728-3910"),
        ("Tel. +44 20 7946 0958", "PHONE", "+44 20 7946 0958"),
        ("Telefon: 030 28094153", "PHONE", "030 28094153"),
        ("Appelez le +33 1 42 68 53 00", "PHONE", "+33 1 42 68 53 00"),
        ("call 4157283911 if it breaks", "PHONE", "4157283911"),
        ("room 12 415-728-3910 is free", "PHONE", "415-728-3910"),
        ("Visa 4111 1111 1111 1111, expiry 04/27", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("Amex 3782-822463-10005", "CREDIT_CARD", "3782-822463-10005"),
        ("card 4111 1111 1111 1111 2027", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX", "IBAN", "DE89 3704 0044 0532 0130 00"),
        ("to GB29NWBK60161331926819 please", "IBAN", "GB29NWBK60161331926819"),
        ("SSN: 536-22-8726", "US_SSN", "536-22-8726"),
        ("Applicant SSN 536228726 failed", "US_SSN", "536228726"),
        ("Login from 81.2.69.142 was blocked.", "IP_ADDRESS", "81.2.69.142"),
        ("Traffic from 2001:db8::8a2e:370:7334 spiked", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
        ("DNI: 12345678Z", "ES_NIF", "12345678Z"),
        ("NIE X1234567L", "ES_NIF", "X1234567L"),
    ],
)
def test_each_structured_identifier_is_found_with_its_span(
    structured: PiiDetector, text: str, entity_type: str, value: str
) -> None:
    assert found(structured, text) == [(entity_type, value)]


@pytest.mark.unit
@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails the Luhn check",
        "IBAN DE89 3704 0044 0532 0130 01 has a wrong check digit",
        "SSN 000-12-3456, 666-45-1234, 912-34-5678 and 123-00-4567 are never issued",
        "Address 256.300.1.1 is not an address",
        "DNI 12345678A does not match its letter",
        "user@localhost and logo@2x.png are not e-mail addresses",
        "Order #4815162342 shipped; your order number is 4157283910",
        "Invoice INV-2024-00831 and invoice number 7719203846; Invoice #311-52-7780",
        "ISBN 978-0-306-40615-7, ISBN-10 0-306-40615-2, ISBN 9780306406157",
        "Upgrade to version 1.2.3.4; we run Windows 10.0.19041.1; Chrome/122.0.6261.112",
        "Meeting 15/03/2024 at 14:30; last login 03.15.2024 08:12:55; 2024-03-15T14:30:00Z",
        "SKU 415-728-3910 and part no. 800-273-8255 are out of stock",
        "order_id=4539578763621486 total=59.90",
        "MAC 00:1A:2B:3C:4D:5E at 12:30:45",
    ],
)
def test_hard_negatives_find_nothing(structured: PiiDetector, text: str) -> None:
    assert found(structured, text) == []


@pytest.mark.unit
def test_findings_are_sorted_and_never_overlap(structured: PiiDetector) -> None:
    text = "ip 10.0.0.5, a@b.com, +1 646 813 2290, 4111-1111-1111-1111 and DE89370400440532013000"
    findings = structured.find(text)
    assert [f.entity_type for f in findings] == [
        "IP_ADDRESS",
        "EMAIL",
        "PHONE",
        "CREDIT_CARD",
        "IBAN",
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))
    assert all(isinstance(f, PiiFinding) and 0 < f.score <= 1 for f in findings)


@pytest.mark.unit
def test_settings_choose_the_types_and_the_minimum_score() -> None:
    text = "mail a@b.com or call 4157283911"
    only_mail = PiiDetector(PiiSettings(entities=["EMAIL"], names_and_locations=False))
    assert found(only_mail, text) == [("EMAIL", "a@b.com")]
    strict = PiiDetector(PiiSettings(min_score=0.8, names_and_locations=False))
    assert found(strict, text) == [("EMAIL", "a@b.com")]  # a bare digit run scores 0.75
    assert PiiDetector(STRUCTURED_ONLY).entity_types == (
        "EMAIL",
        "PHONE",
        "CREDIT_CARD",
        "IBAN",
        "US_SSN",
        "IP_ADDRESS",
        "ES_NIF",
    )


@pytest.mark.unit
def test_names_off_finds_no_names_and_needs_no_model() -> None:
    detector = PiiDetector(PiiSettings(names_and_locations=False, spacy_model="not-installed"))
    assert found(detector, "John Smith moved to Paris") == []


@pytest.mark.unit
def test_a_redaction_keeps_one_placeholder_per_value(structured: PiiDetector) -> None:
    session = structured.redaction()
    first = session.redact("mail a@b.com and c@d.org, call +1 415 728 3910")
    second = session.redact("again A@B.com; or (415) 728-3910")
    assert first == "mail <EMAIL_1> and <EMAIL_2>, call <PHONE_1>"
    assert second == "again <EMAIL_1>; or <PHONE_1>"
    assert session.counts == {"EMAIL": 2, "PHONE": 1}


@pytest.mark.unit
def test_restore_brings_back_this_sessions_values_only(structured: PiiDetector) -> None:
    session = structured.redaction()
    redacted = session.redact("refund 4111 1111 1111 1111 for a@b.com")
    reply = "I refunded <CREDIT_CARD_1> and wrote to <EMAIL_1>; <EMAIL_7> and <PERSON_1> stay."
    answer = f"{reply} {redacted}"
    assert session.restore(answer) == (
        "I refunded 4111 1111 1111 1111 and wrote to a@b.com; <EMAIL_7> and <PERSON_1> stay."
        " refund 4111 1111 1111 1111 for a@b.com"
    )
    other = structured.redaction()
    assert other.restore("<EMAIL_1>") == "<EMAIL_1>"
    assert other.counts == {}


@pytest.mark.unit
def test_redact_text_is_one_shot_and_text_without_pii_is_unchanged(
    structured: PiiDetector,
) -> None:
    assert redact_text(structured, "a@b.com then x@y.com") == "<EMAIL_1> then <EMAIL_2>"
    assert redact_text(structured, "a@b.com") == "<EMAIL_1>"
    plain = "What is the leave policy for 2024?"
    assert redact_text(structured, plain) == plain
    assert structured.find("") == []


@pytest.mark.unit
def test_policy_values_match_the_setting() -> None:
    assert [p.value for p in PiiPolicy] == ["redact", "block", "allow"]
    assert PiiPolicy(PiiSettings().questions) is PiiPolicy.REDACT


@pytest.mark.service
def test_names_and_places_are_found_by_the_model(detector: PiiDetector) -> None:
    text = "Maria Garcia relocated to Barcelona in June; mail maria.garcia@example.com"
    assert found(detector, text) == [
        ("PERSON", "Maria Garcia"),
        ("LOCATION", "Barcelona"),
        ("EMAIL", "maria.garcia@example.com"),
    ]


@pytest.mark.service
def test_a_structured_identifier_wins_over_a_name_inside_it(detector: PiiDetector) -> None:
    text = "Write to John.Smith@contoso.com or call +44 20 7946 0958."
    assert found(detector, text) == [
        ("EMAIL", "John.Smith@contoso.com"),
        ("PHONE", "+44 20 7946 0958"),
    ]


@pytest.mark.service
def test_redacting_twice_leaves_the_placeholders_alone(detector: PiiDetector) -> None:
    session = detector.redaction()
    once = session.redact("Emma Wilson from Bristol, emma@wilson.me, asked for deletion.")
    assert once == "<PERSON_1> from <LOCATION_1>, <EMAIL_1>, asked for deletion."
    assert session.redact(once) == once
    assert session.restore(once) == "Emma Wilson from Bristol, emma@wilson.me, asked for deletion."
    assert session.counts == {"PERSON": 1, "LOCATION": 1, "EMAIL": 1}


@pytest.mark.service
def test_concurrent_first_calls_share_one_model_and_agree() -> None:
    detector = PiiDetector(PiiSettings())
    text = "Anna Schmidt works from our Munich office, +49 89 2180 3115."
    results: list[list[PiiFinding]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(detector.find(text))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 6 and all(r == results[0] for r in results)
    assert [f.entity_type for f in results[0]] == ["PERSON", "LOCATION", "PHONE"]


@pytest.mark.service
def test_a_missing_model_is_a_configuration_error_not_a_download() -> None:
    detector = PiiDetector(PiiSettings(spacy_model="en_core_web_nonexistent"))
    with pytest.raises(ConfigurationError, match="en_core_web_nonexistent"):
        detector.load()
    with pytest.raises(ConfigurationError, match="RAGLINE_PII__SPACY_MODEL"):
        detector.find("John Smith")
    PiiDetector(PiiSettings(names_and_locations=False, spacy_model="absent")).load()


def test_a_redaction_is_a_new_session_each_time(structured: PiiDetector) -> None:
    assert isinstance(structured.redaction(), Redaction)
    assert structured.redaction() is not structured.redaction()


@pytest.mark.service
def test_a_text_longer_than_one_model_pass_is_read_in_parts(detector: PiiDetector) -> None:
    filler = "The quarterly report lists revenue by region and by product line.\n" * 2000
    text = f"{filler}Contact Maria Garcia at maria.garcia@example.com.\n{filler}"
    assert len(text) > 200_000
    assert found(detector, text) == [
        ("PERSON", "Maria Garcia"),
        ("EMAIL", "maria.garcia@example.com"),
    ]
