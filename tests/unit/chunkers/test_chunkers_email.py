"""The email strategy: headers as metadata, new text apart from the quoted history."""

from __future__ import annotations

import pytest
from chunk_checks import assert_within_limit, words
from chunker_doubles import WhitespaceTokenCounterDouble
from chunker_samples import shipment_thread

from chunkers.base import TokenCounter
from chunkers.emails import EmailChunker
from chunkers.mail_quotes import MailSegment, QuoteTracker
from kernel.documents import ChunkDraft, Element, ParsedDocument

pytestmark = pytest.mark.unit


def email_chunks(doc: ParsedDocument, max_tokens: int = 254) -> list[ChunkDraft]:
    return EmailChunker().chunk(doc, WhitespaceTokenCounterDouble(max_tokens))


def message(*bodies: str, **metadata: str) -> ParsedDocument:
    return ParsedDocument("eml", tuple(Element("text", b) for b in bodies), metadata=metadata)


def test_the_reply_and_the_quoted_message_are_chunked_apart(minilm_tokens: TokenCounter) -> None:
    drafts = EmailChunker().chunk(shipment_thread(), minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    new, quoted = drafts
    assert new.metadata["quoted"] == "false"
    assert new.text == (
        "Hi Dana,\n\nThe replacement gaskets left our Leeds warehouse this morning on tracking "
        "number 1Z999AA10123456784. They should reach your Rotterdam site on Thursday."
        "\n\nThanks,\nLee"
    )
    assert quoted.metadata["quoted"] == "true"
    assert quoted.text == (
        "On Tue, 5 Mar 2024 at 09:14, Dana Whitfield <dana@contoso.example> wrote:\n"
        "Lee, can you confirm when the replacement gaskets will ship?\n"
        "Our line in Rotterdam is down until they arrive.\n\nDana"
    )


def test_every_chunk_carries_the_headers_and_the_subject_as_section() -> None:
    for draft in email_chunks(shipment_thread()):
        assert draft.section == "Re: Gasket shipment"
        assert draft.metadata["from"] == "Lee Chen <lee@northwind.example>"
        assert draft.metadata["to"] == "Dana Whitfield <dana@contoso.example>"
        assert draft.metadata["cc"] == "ops@contoso.example"
        assert draft.metadata["date"] == "Tue, 5 Mar 2024 11:02:00 +0000"
        assert "From:" not in draft.text


def test_headers_fall_back_to_email_header_elements() -> None:
    doc = ParsedDocument(
        "eml",
        (
            Element("email_header", "From: Ana <ana@x.example>\nSubject: Badge access\nDate: Mon"),
            Element("text", "Please renew my badge."),
        ),
        metadata={"to": "security@x.example"},
    )
    (draft,) = email_chunks(doc)
    assert draft.text == "Please renew my badge."
    assert draft.section == "Badge access"
    assert {k: draft.metadata[k] for k in ("from", "to", "subject", "date")} == {
        "from": "Ana <ana@x.example>",
        "to": "security@x.example",
        "subject": "Badge access",
        "date": "Mon",
    }


def test_text_written_under_a_quote_is_new() -> None:
    doc = message(
        "On Mon, 4 Mar 2024, Dana <dana@contoso.example> wrote:\n"
        "> Which courier do you use?\n\n"
        "We use DHL for all EU shipments.",
        subject="Re: Courier",
    )
    drafts = email_chunks(doc)
    assert [(d.metadata["quoted"], d.text) for d in drafts] == [
        (
            "true",
            "On Mon, 4 Mar 2024, Dana <dana@contoso.example> wrote:\nWhich courier do you use?",
        ),
        ("false", "We use DHL for all EU shipments."),
    ]


def test_an_outlook_original_message_and_all_after_it_is_quoted() -> None:
    doc = message(
        "Approved, go ahead.\n\nMaria",
        "-----Original Message-----\nFrom: Tom\nSent: Friday\nSubject: PO 7781",
        "Can you approve PO 7781 for the new forklift?",
    )
    drafts = email_chunks(doc)
    assert [d.text for d in drafts if d.metadata["quoted"] == "false"] == [
        "Approved, go ahead.\n\nMaria"
    ]
    quoted = " ".join(d.text for d in drafts if d.metadata["quoted"] == "true")
    assert "Can you approve PO 7781" in quoted
    assert "From: Tom" in quoted


def test_an_outlook_header_block_without_a_rule_starts_the_history() -> None:
    doc = message(
        "Thanks, received.\n\nFrom: Tom Berg\nSent: 3 March 2024\nTo: Maria\n\nInvoice attached."
    )
    drafts = email_chunks(doc)
    assert [(d.metadata["quoted"], d.text.splitlines()[0]) for d in drafts] == [
        ("false", "Thanks, received."),
        ("true", "From: Tom Berg"),
    ]


def test_a_wrapped_attribution_line_goes_with_its_quote() -> None:
    doc = message(
        "Sounds good.\n"
        "On Tue, 5 Mar 2024 at 09:14, Dana Whitfield <dana@contoso.example>\n"
        "wrote:\n"
        "> Shall we meet on Friday?\n"
        "Friday at ten works for me."
    )
    drafts = email_chunks(doc)
    assert [(d.metadata["quoted"], d.text) for d in drafts] == [
        ("false", "Sounds good."),
        (
            "true",
            "On Tue, 5 Mar 2024 at 09:14, Dana Whitfield <dana@contoso.example>\nwrote:\n"
            "Shall we meet on Friday?",
        ),
        ("false", "Friday at ten works for me."),
    ]


def test_a_long_message_fills_several_new_chunks_before_any_quoted_one() -> None:
    body = " ".join(
        f"Update {i}: pallet {i} was loaded and sealed at dock four." for i in range(30)
    )
    doc = message(body, "On Mon, Dana wrote:\n> Status?")
    tokens = WhitespaceTokenCounterDouble(40)
    drafts = EmailChunker().chunk(doc, tokens)
    assert_within_limit(drafts, tokens)
    flags = [d.metadata["quoted"] for d in drafts]
    assert flags == ["false"] * (len(flags) - 1) + ["true"]
    assert len(flags) > 5
    assert words(" ".join(d.text for d in drafts[:-1])) == words(body)


def test_nested_quote_markers_are_removed() -> None:
    segments = QuoteTracker().feed("Agreed.\n> > Original question?\n> First answer.")
    assert segments == [
        MailSegment("Agreed.", quoted=False),
        MailSegment("Original question?\nFirst answer.", quoted=True),
    ]
