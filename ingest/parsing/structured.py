"""JSON, JSON lines, YAML and XML as readable text: one element per top-level entry
(or per record of JSON lines), one line per value.

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
from kernel.errors import CorruptDocumentError, ParseLimitError

#: Nesting deeper than this is cut off: real data rarely nests past a dozen levels.
_MAX_DEPTH: Final[int] = 64
#: Lines per element; a huge single record is split so no element is unbounded.
_MAX_LINES: Final[int] = 200
#: Values in one YAML file: aliases can make a few bytes expand without bound.
_MAX_YAML_VALUES: Final[int] = 500_000

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
    return _data_elements(data)


def jsonl_elements(text: str) -> list[Element]:
    """Flatten JSON lines (NDJSON): each line's record is an element of its own.

    Raises:
        CorruptDocumentError: a line is not valid JSON.
    """
    elements: list[Element] = []
    index = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise CorruptDocumentError(
                f"JSONL file has a line that is not JSON (line {number})"
            ) from exc
        elements.extend(_text_elements(list(_json_lines(f"[{index}]", record, 0))))
        index += 1
    return elements


def yaml_elements(text: str) -> list[Element]:
    """Flatten YAML like JSON (``server.port: 8080``), never taking a ``key:`` for a heading.

    Text that is not YAML (a template with ``{{ }}`` placeholders) is kept as it
    is, one element per top-level entry, rather than refused.

    Raises:
        ParseLimitError: aliases expand the file past ``_MAX_YAML_VALUES`` values.
    """
    import yaml

    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except (yaml.YAMLError, RecursionError, ValueError):
        return _top_level_blocks(text)
    elements: list[Element] = []
    for data in documents:
        elements.extend(_data_elements(data, max_lines=_MAX_YAML_VALUES - _line_count(elements)))
    return elements


def _line_count(elements: list[Element]) -> int:
    return sum(element.text.count("\n") + 1 for element in elements)


def _top_level_blocks(text: str) -> list[Element]:
    """The text cut before each line that starts at the margin (a top-level entry)."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line[:1].strip() and not line.startswith("#") and any(s.strip() for s in blocks[-1]):
            blocks.append([])
        blocks[-1].append(line)
    return [
        Element(kind="text", text="\n".join(block).strip("\n"))
        for block in blocks
        if any(line.strip() for line in block)
    ]


def _data_elements(data: Any, *, max_lines: int | None = None) -> list[Element]:
    """One element per top-level key or array item (a huge one in several).

    Raises:
        ParseLimitError: more than ``max_lines`` lines (YAML aliases can expand a
            few bytes without bound; counted as they come, before they pile up).
    """
    if isinstance(data, dict):
        groups = [(str(key), value) for key, value in data.items()]
    elif isinstance(data, list):
        groups = [(f"[{index}]", value) for index, value in enumerate(data)]
    else:
        groups = [("", data)]
    elements: list[Element] = []
    budget = max_lines
    for path, value in groups:
        lines: list[str] = []
        for line in _json_lines(path, value, 0):
            lines.append(line)
            if budget is not None:
                budget -= 1
                if budget < 0:
                    raise ParseLimitError(
                        f"YAML file expands to more than {_MAX_YAML_VALUES:,} values (aliases)"
                    )
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
