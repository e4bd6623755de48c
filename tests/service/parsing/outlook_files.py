"""Outlook .msg files built from scratch, for tests: nothing installed here writes them.

olefile only reads compound files, so this writes a minimal one (version 3,
512-byte sectors, every stream under 4 KiB in the mini stream) holding the
property streams Outlook writes (MS-OXMSG): enough for python-oxmsg to read
subject, sender, recipients, submit time, plain body and attachments (files, and
messages embedded in the message).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass, field
from typing import Any

_END, _FREE, _FATSECT, _NONE = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR, _MINI = 512, 64
_STRING, _BINARY, _INT32, _TIME = 0x001F, 0x0102, 0x0003, 0x0040
_BY_VALUE, _EMBEDDED_MESSAGE = 1, 5  # PR_ATTACH_METHOD: afByValue, afEmbeddedMessage


@dataclass
class _Node:
    name: str
    data: bytes | None = None  # None: a storage
    children: dict[str, _Node] = field(default_factory=dict)


def build_msg(
    *,
    subject: str,
    sender: str,
    sender_name: str,
    to: list[tuple[str, str]],
    cc: list[tuple[str, str]] = (),  # type: ignore[assignment]
    body: str,
    sent: dt.datetime,
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    mime_types: dict[str, str] | None = None,
    message_class: str = "IPM.Note",
    embedded: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> bytes:
    """A .msg with these properties; ``to``/``cc`` are (name, address) pairs.

    ``mime_types`` maps an attachment's file name to the MIME type it declares
    (PR_ATTACH_MIME_TAG); the others declare none. ``embedded`` are messages
    attached to this one (attach method 5, ``afEmbeddedMessage``), each given
    by the same keyword arguments (``embedded`` included), after the files.
    """
    root = _Node("Root Entry")
    _message(
        root,
        header_padding=8,
        subject=subject,
        sender=sender,
        sender_name=sender_name,
        to=to,
        cc=cc,
        body=body,
        sent=sent,
        attachments=attachments,
        mime_types=mime_types,
        message_class=message_class,
        embedded=embedded,
    )
    return _compound(root)


def _message(
    node: _Node,
    *,
    header_padding: int,
    subject: str,
    sender: str,
    sender_name: str,
    to: list[tuple[str, str]],
    cc: list[tuple[str, str]] = (),  # type: ignore[assignment]
    body: str,
    sent: dt.datetime,
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    mime_types: dict[str, str] | None = None,
    message_class: str = "IPM.Note",
    embedded: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> None:
    """Fill ``node`` with a message's streams; its property header is 24 bytes plus
    ``header_padding`` (8 for a top-level message, 0 for an embedded one)."""
    top = {
        0x001A: message_class,
        0x0037: subject,
        0x0C1A: sender_name,
        0x0C1F: sender,
        0x1000: body,
    }
    fixed: list[tuple[int, int, bytes]] = [
        (0x0039, _TIME, struct.pack("<q", _filetime(sent))),
    ]
    recipients = len(to) + len(cc)
    attached = len(attachments) + len(embedded)
    _properties(
        node,
        top,
        {},
        fixed,
        header=struct.pack("<8x4I", recipients, attached, recipients, attached)
        + b"\0" * header_padding,
    )
    for number, (kind, (name, address)) in enumerate(
        [*((1, r) for r in to), *((2, r) for r in cc)]
    ):
        storage = _Node(f"__recip_version1.0_#{number:08X}")
        node.children[storage.name] = storage
        _properties(
            storage,
            {0x3001: name, 0x39FE: address, 0x3003: address},
            {},
            [(0x0C15, _INT32, struct.pack("<I", kind) + b"\0" * 4)],
            header=b"\0" * 8,
        )
    for number, (filename, content) in enumerate(attachments):
        strings = {0x3707: filename, 0x3704: filename}
        if mime_types and filename in mime_types:
            strings[0x370E] = mime_types[filename]
        _attachment(node, number, _BY_VALUE, strings, {0x3701: content})
    for number, fields in enumerate(embedded, start=len(attachments)):
        storage = _attachment(
            node,
            number,
            _EMBEDDED_MESSAGE,
            {0x3001: fields["subject"], 0x370E: "message/rfc822"},
            {},
        )
        inner = _Node("__substg1.0_3701000D")
        storage.children[inner.name] = inner
        _message(inner, header_padding=0, **fields)


def _attachment(
    message: _Node,
    number: int,
    method: int,
    strings: dict[int, str],
    binaries: dict[int, bytes],
) -> _Node:
    """Add attachment ``number`` to ``message``: its storage, with these properties and
    PR_ATTACH_METHOD ``method``; returned so an embedded message can go inside it."""
    storage = _Node(f"__attach_version1.0_#{number:08X}")
    message.children[storage.name] = storage
    _properties(
        storage,
        strings,
        binaries,
        [(0x3705, _INT32, struct.pack("<I", method) + b"\0" * 4)],
        header=b"\0" * 8,
    )
    return storage


def _filetime(moment: dt.datetime) -> int:
    epoch = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
    return int((moment - epoch).total_seconds() * 10_000_000)


def _properties(
    storage: _Node,
    strings: dict[int, str],
    binaries: dict[int, bytes],
    fixed: list[tuple[int, int, bytes]],
    *,
    header: bytes,
) -> None:
    entries = bytearray(header)
    for pid, text in strings.items():
        data = text.encode("utf-16-le")  # the size counts a terminator the stream lacks
        name = f"__substg1.0_{pid:04X}{_STRING:04X}"
        storage.children[name] = _Node(name, data)
        entries += struct.pack("<IIII", (pid << 16) | _STRING, 6, len(data) + 2, 0)
    for pid, blob in binaries.items():
        name = f"__substg1.0_{pid:04X}{_BINARY:04X}"
        storage.children[name] = _Node(name, blob)
        entries += struct.pack("<IIII", (pid << 16) | _BINARY, 6, len(blob), 0)
    for pid, ptype, value in fixed:
        entries += struct.pack("<II", (pid << 16) | ptype, 6) + value
    name = "__properties_version1.0"
    storage.children[name] = _Node(name, bytes(entries))


def _compound(root: _Node) -> bytes:
    """Write the tree as a version-3 compound file, every stream in the mini stream."""
    order: list[_Node] = []

    def collect(node: _Node) -> None:
        order.append(node)
        for child in node.children.values():
            collect(child)

    collect(root)
    index = {id(node): number for number, node in enumerate(order)}
    mini = bytearray()
    mini_fat: list[int] = []
    starts: dict[int, int] = {}
    for node in order:
        if node.data is None:
            continue
        assert len(node.data) < 4096, "this writer keeps every stream in the mini stream"
        first = len(mini) // _MINI
        count = max(1, -(-len(node.data) // _MINI))
        starts[id(node)] = first if node.data else _END
        mini += node.data.ljust(count * _MINI, b"\0")
        mini_fat += [first + i + 1 for i in range(count - 1)] + [_END]
    mini_sectors = -(-len(mini) // _SECTOR)
    mini_fat_sectors = -(-len(mini_fat) * 4 // _SECTOR)
    dir_sectors = -(-len(order) * 128 // _SECTOR)
    fat_sectors = 1
    while fat_sectors * _SECTOR // 4 < fat_sectors + dir_sectors + mini_fat_sectors + mini_sectors:
        fat_sectors += 1
    dir_start = fat_sectors
    mini_fat_start = dir_start + dir_sectors
    mini_start = mini_fat_start + mini_fat_sectors
    fat = [_FATSECT] * fat_sectors
    for start, count in (
        (dir_start, dir_sectors),
        (mini_fat_start, mini_fat_sectors),
        (mini_start, mini_sectors),
    ):
        fat += [start + i + 1 for i in range(count - 1)] + [_END]
    fat += [_FREE] * (fat_sectors * _SECTOR // 4 - len(fat))

    directory = bytearray()
    for node in order:
        siblings = sorted(node.children.values(), key=lambda n: (len(n.name), n.name.upper()))
        child = index[id(siblings[0])] if siblings else _NONE
        directory += _entry(node, order, index, child, root, len(mini), starts, mini_start)
    directory = directory.ljust(dir_sectors * _SECTOR, b"\0")

    header = bytearray(
        bytes.fromhex("d0cf11e0a1b11ae1")
        + b"\0" * 16
        + struct.pack(
            "<HHHHH6xIIIIIIIII",
            0x3E,
            3,
            0xFFFE,
            9,
            6,
            0,
            fat_sectors,
            dir_start,
            0,
            4096,
            mini_fat_start if mini_fat_sectors else _END,
            mini_fat_sectors,
            _END,
            0,
        )
    )
    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header += struct.pack("<109I", *difat)
    body = b"".join(
        (
            struct.pack(f"<{len(fat)}I", *fat),
            bytes(directory),
            struct.pack(f"<{len(mini_fat)}I", *mini_fat).ljust(mini_fat_sectors * _SECTOR, b"\xff"),
            bytes(mini).ljust(mini_sectors * _SECTOR, b"\0"),
        )
    )
    return bytes(header) + body


def _entry(
    node: _Node,
    order: list[_Node],
    index: dict[int, int],
    child: int,
    root: _Node,
    mini_size: int,
    starts: dict[int, int],
    mini_start: int,
) -> bytes:
    # Siblings are chained through their right pointers in sorted order: a valid
    # (if unbalanced) binary search tree, all black.
    parent = next(
        (p for p in order if node.name in p.children and p.children[node.name] is node), None
    )
    right = _NONE
    if parent is not None:
        siblings = sorted(parent.children.values(), key=lambda n: (len(n.name), n.name.upper()))
        position = siblings.index(node)
        if position + 1 < len(siblings):
            right = index[id(siblings[position + 1])]
    name = node.name.encode("utf-16-le") + b"\0\0"
    if node is root:
        kind, start, size = 5, mini_start if mini_size else _END, mini_size
    elif node.data is None:
        kind, start, size = 1, 0, 0
    else:
        kind, start, size = 2, starts[id(node)], len(node.data)
    return (
        name.ljust(64, b"\0")
        + struct.pack("<HBBIII", len(name), kind, 1, _NONE, right, child)
        + b"\0" * 16  # CLSID
        + b"\0" * 4  # state bits
        + b"\0" * 16  # times
        + struct.pack("<IQ", start, size)
    )
