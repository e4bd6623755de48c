"""Object names become keys: Unicode kept, unsafe characters escaped, never two names in one key."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.storage import MAX_PART_BYTES, object_name, safe_key
from kernel.errors import InvalidInputError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "name", ["отчёт.md", "договор.md", "報告 2024.pdf", "مرحبا.txt", "Zoë's CV.docx"]
)
def test_letters_of_every_script_stay(name: str) -> None:
    assert safe_key(name) == name


def test_names_that_used_to_collapse_get_distinct_keys() -> None:
    assert safe_key("отчёт.md") != safe_key("договор.md")
    assert safe_key("100%.md") != safe_key("100%25.md")
    assert safe_key("a.md") != safe_key(".a.md")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("100%.md", "100%25.md"),
        ("tab\there.md", "tab%09here.md"),
        ("C:\\Users\\me\\notes.txt", "C:%5CUsers%5Cme%5Cnotes.txt"),
        ("mail.eml#agenda.txt", "mail.eml%23agenda.txt"),
        (".upload-abcd1234", "%2Eupload-abcd1234"),
        ("evil\u202egpj.exe", "evil%E2%80%AEgpj.exe"),
        ("/docs/2024/report<1>.pdf", "docs/2024/report<1>.pdf"),
    ],
)
def test_unsafe_characters_are_percent_escaped(name: str, key: str) -> None:
    assert safe_key(name) == key
    assert object_name(key) == name.lstrip("/")


def test_decomposed_and_composed_forms_are_one_name() -> None:
    assert safe_key("cafe\u0301.md") == safe_key("caf\u00e9.md") == "caf\u00e9.md"


def test_a_part_over_the_file_system_limit_is_refused() -> None:
    ok = "ж" * 126 + ".md"  # 255 bytes
    assert safe_key(ok) == ok
    with pytest.raises(InvalidInputError, match=str(MAX_PART_BYTES)):
        safe_key("ж" * 148 + ".md")  # 299 bytes
    with pytest.raises(InvalidInputError):
        safe_key("%" * 100)  # short, but 300 bytes once escaped


_names = st.text(
    st.characters(blacklist_characters="/", blacklist_categories=["Cs"]), min_size=1, max_size=40
).filter(lambda n: unicodedata.normalize("NFC", n) not in (".", ".."))


@given(_names)
def test_every_name_comes_back_from_its_key(name: str) -> None:
    assert object_name(safe_key(name)) == unicodedata.normalize("NFC", name)


@given(_names, _names)
def test_two_names_share_a_key_only_when_they_are_the_same_name(a: str, b: str) -> None:
    if safe_key(a) == safe_key(b):
        assert unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


@given(_names)
def test_a_key_part_is_never_hidden_never_a_separator_and_never_a_control(name: str) -> None:
    key = safe_key(name)
    assert "/" not in key and "\\" not in key and "#" not in key
    assert not key.startswith(".")
    assert all(unicodedata.category(c) != "Cc" for c in key)
