"""How ``QdrantClientIndex`` names its generations on a Qdrant server, and finds the live one.

For a configured collection name ``chunks``:

- generation N is the collection ``chunks__gN``;
- the alias ``chunks`` points at the live generation, so anything that addresses
  ``chunks`` (ragline's other processes, an operator's tools) reads the live one;
- the alias ``chunks__next`` points at the generation being built, if any: every
  process's writes look it up and are mirrored there;
- a real collection named ``chunks`` (no alias: made before generations, or by the
  deployment's collection job) is generation 0.

Qdrant refuses an alias named like an existing collection, so the one switch away
from generation 0 must delete that collection before it can create the alias: two
calls, not one. In between, ``chunks`` names nothing and ``chunks__next`` names the
generation being switched to, which is therefore what :func:`resolve` returns as live;
``ensure_ready`` finishes such a switch if it was interrupted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qdrant_client import QdrantClient, models

NEXT_SUFFIX = "__next"


@dataclass(frozen=True, slots=True)
class Targets:
    """The concrete collections one operation uses: live (None: nothing yet) and building."""

    live: str | None
    building: str | None
    aliases: dict[str, str]


def generation_name(base: str, number: int) -> str:
    return base if number == 0 else f"{base}__g{number}"


def next_alias(base: str) -> str:
    return f"{base}{NEXT_SUFFIX}"


def generation_number(base: str, collection: str) -> int | None:
    if collection == base:
        return 0
    match = re.fullmatch(rf"{re.escape(base)}__g([1-9][0-9]*)", collection)
    return int(match.group(1)) if match else None


def resolve(client: QdrantClient, base: str) -> Targets:
    """Which collections are live and being built now (raises the engine's errors)."""
    aliases = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
    building = aliases.get(next_alias(base))
    if base in aliases:
        return Targets(aliases[base], building, aliases)
    if client.collection_exists(base):
        return Targets(base, building, aliases)
    # No alias and no collection: fresh, or mid-switch away from generation 0.
    return Targets(building, None, aliases)


def existing_generations(client: QdrantClient, base: str) -> list[int]:
    names = [c.name for c in client.get_collections().collections]
    numbers = (generation_number(base, name) for name in names)
    return sorted(n for n in numbers if n is not None)


def create_alias(alias: str, collection: str) -> models.CreateAliasOperation:
    return models.CreateAliasOperation(
        create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
    )


def delete_alias(alias: str) -> models.DeleteAliasOperation:
    return models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
