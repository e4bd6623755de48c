"""JSON and XML flattened into readable ``path: value`` text."""

from __future__ import annotations

import json

import pytest

from ingest.parsing.structured import json_elements, jsonl_elements, xml_elements, yaml_elements
from kernel.errors import CorruptDocumentError, ParseLimitError

pytestmark = pytest.mark.unit


def test_json_object_gives_one_element_per_top_level_key() -> None:
    data = {
        "name": "ragline",
        "owner": {"team": "search", "address": {"city": "Paris"}},
        "tags": ["rag", "search"],
        "releases": [{"version": "1.0", "stable": True}, {"version": "2.0", "stable": False}],
        "empty": None,
    }
    elements = json_elements(json.dumps(data))
    assert [e.text for e in elements] == [
        "name: ragline",
        "owner.team: search\nowner.address.city: Paris",
        "tags: rag, search",
        "releases[0].version: 1.0\nreleases[0].stable: true\n"
        "releases[1].version: 2.0\nreleases[1].stable: false",
    ]
    assert {e.kind for e in elements} == {"text"}


def test_json_array_gives_one_element_per_item() -> None:
    elements = json_elements('[{"q": "why?", "a": "because"}, {"q": "how?"}]')
    assert [e.text for e in elements] == ["[0].q: why?\n[0].a: because", "[1].q: how?"]


def test_invalid_json_is_corrupt_and_says_where_in_its_own_words() -> None:
    with pytest.raises(CorruptDocumentError) as caught:
        json_elements('{"a": 1,}')
    assert caught.value.message == "JSON file is not valid JSON (line 1, column 9)"
    assert "Expecting" in str(caught.value.__cause__)  # the library's words stay the cause


def test_json_nested_too_deep_for_the_decoder_is_corrupt() -> None:
    with pytest.raises(CorruptDocumentError) as caught:
        json_elements("[" * 100_000 + "]" * 100_000)
    assert caught.value.message == "JSON file is not valid JSON"


def test_xml_gives_one_element_per_child_of_the_root_with_attributes() -> None:
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<factbook xmlns="urn:x"><country id="us"><name>United States</name>'
        "<capital>Washington, DC</capital></country>"
        '<country id="fr"><name>France</name><capital>Paris</capital></country></factbook>'
    )
    elements = xml_elements(xml)
    assert [e.text for e in elements] == [
        "country@id: us\ncountry.name: United States\ncountry.capital: Washington, DC",
        "country@id: fr\ncountry.name: France\ncountry.capital: Paris",
    ]


def test_xml_entities_are_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<root><item>&lol3;</item><item>plain</item></root>"
    )
    text = "\n".join(e.text for e in xml_elements(bomb))
    assert "lollol" not in text
    assert "item: plain" in text


def test_malformed_xml_is_corrupt_and_says_where_in_its_own_words() -> None:
    with pytest.raises(CorruptDocumentError) as caught:
        xml_elements("<root>\n<a></root>")
    assert caught.value.message == "XML file is not well-formed (line 2, column 11)"
    assert "mismatch" in str(caught.value.__cause__)  # the library's words stay the cause


def test_json_lines_give_one_element_per_record_and_name_a_bad_line() -> None:
    elements = jsonl_elements(
        '{"name": "Smith, John"}\n\n{"name": "Doe, Jane", "tags": ["a", "b"]}\n'
    )
    assert [e.text for e in elements] == [
        "[0].name: Smith, John",
        "[1].name: Doe, Jane\n[1].tags: a, b",
    ]
    with pytest.raises(CorruptDocumentError, match=r"line 2\)"):
        jsonl_elements('{"a": 1}\n{"a": \n')


def test_yaml_is_flattened_and_an_alias_bomb_is_stopped() -> None:
    elements = yaml_elements("# settings\nserver:\n  port: 8080\n---\nname: second\n")
    assert [e.text for e in elements] == ["server.port: 8080", "name: second"]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 8):
        bomb += (
            f"{chr(97 + level)}: &{chr(97 + level)} [{', '.join(['*' + chr(96 + level)] * 10)}]\n"
        )
    with pytest.raises(ParseLimitError, match="aliases"):
        yaml_elements(bomb)


def test_text_that_is_not_yaml_is_kept_at_its_top_level_keys() -> None:
    elements = yaml_elements("kind: Deployment\nspec:\n  name: {{ .Name }}\n  x: [\nother: 1\n")
    assert [e.text for e in elements] == [
        "kind: Deployment",
        "spec:\n  name: {{ .Name }}\n  x: [",
        "other: 1",
    ]
