"""JSON and XML as readable text: one element per top-level entry, one line per value.

unstructured's ``partition_json`` expects its own serialised-element schema and
``partition_xml`` drops the names that give values their meaning, so arbitrary
data is flattened here into ``path: value`` lines ("address.city: Paris"), which
embed and read well, grouped by top-level key or array item so a chunker can
split a large file along its natural records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from kernel.documents import Element
from kernel.errors import CorruptDocumentError

#: Nesting deeper than this is cut off: real data rarely nests past a dozen levels.
_MAX_DEPTH: Final[int] = 64
#: Lines per element; a huge single record is split so no element is unbounded.
_MAX_LINES: Final[int] = 200

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def json_elements(text: str) -> list[Element]:
    """Flatten a JSON document.

    Raises:
        CorruptDocumentError: the text is not valid JSON.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptDocumentError(
            f"JSON file is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise CorruptDocumentError("JSON file is not valid JSON") from exc
    if isinstance(data, dict):
        groups = [(str(key), value) for key, value in data.items()]
    elif isinstance(data, list):
        groups = [(f"[{index}]", value) for index, value in enumerate(data)]
    else:
        groups = [("", data)]
    elements: list[Element] = []
    for path, value in groups:
        lines = list(_json_lines(path, value, 0))
        elements.extend(_text_elements(lines))
    return elements


def _json_lines(path: str, value: Any, depth: int) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        yield f"{path}: …"
        return
    if isinstance(value, dict):
        if not value:
            return
        for key, child in value.items():
            yield from _json_lines(f"{path}.{key}" if path else str(key), child, depth + 1)
    elif isinstance(value, list):
        if value and all(_is_scalar(item) for item in value):
            yield _line(path, ", ".join(_scalar(item) for item in value))
            return
        for index, child in enumerate(value):
            yield from _json_lines(f"{path}[{index}]", child, depth + 1)
    elif value is not None and _scalar(value).strip():
        yield _line(path, _scalar(value))


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _line(path: str, value: str) -> str:
    return f"{path}: {value}" if path else value


def xml_elements(text: str) -> list[Element]:
    """Flatten an XML document: per child of the root, its leaf paths and their text.

    Entities are not expanded and no DTD or network resource is loaded, so an
    entity bomb or an external-entity reference does nothing.

    Raises:
        CorruptDocumentError: the text is not well-formed XML.
    """
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    # The text is already decoded; a declaration naming the original encoding would
    # make lxml refuse a str (and mis-decode bytes), so it goes.
    body = _XML_DECLARATION.sub("", text.lstrip("\ufeff"), count=1)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise CorruptDocumentError(
            f"XML file is not well-formed (line {line}, column {column})"
        ) from exc
    except ValueError as exc:
        raise CorruptDocumentError("XML file is not well-formed") from exc
    if root is None:
        raise CorruptDocumentError("XML file is not well-formed: no root element")
    elements: list[Element] = []
    children = [child for child in root if isinstance(child.tag, str)]
    own = _own_lines(root, "")
    if own:
        elements.extend(_text_elements(own))
    for child in children:
        elements.extend(_text_elements(list(_xml_lines(child, _local(child.tag), 0))))
    return elements


def _xml_lines(node: Any, path: str, depth: int) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        return
    yield from _own_lines(node, path)
    for child in node:
        if isinstance(child.tag, str):
            yield from _xml_lines(child, f"{path}.{_local(child.tag)}", depth + 1)


def _own_lines(node: Any, path: str) -> list[str]:
    lines = [
        _line(f"{path}@{_local(k)}" if path else f"@{_local(k)}", v) for k, v in node.attrib.items()
    ]
    own_text = " ".join(
        " ".join(part.split()) for part in [node.text, *(c.tail for c in node)] if part
    ).strip()
    if own_text:
        lines.append(_line(path, own_text))
    return lines


def _local(tag: str) -> str:
    """A tag without its namespace URI: ``{http://...}title`` reads as ``title``."""
    return tag.rsplit("}", 1)[-1]


def _text_elements(lines: list[str]) -> list[Element]:
    return [
        Element(kind="text", text="\n".join(lines[i : i + _MAX_LINES]))
        for i in range(0, len(lines), _MAX_LINES)
    ]
