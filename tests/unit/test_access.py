"""The access filter: roles come from the key alone; a request only narrows.

Each test here names a way the filter could be wrong (roles taken from the request,
narrowing dropped, an empty role set that matches everything) and would fail on it.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrieval.access import Principal, RequestedFilters, search_filter
from retrieval.index.filters import can_match

pytestmark = pytest.mark.unit

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8)
_name_sets = st.frozensets(_names, max_size=4)
_narrowing = st.none() | _name_sets
_requested = st.builds(RequestedFilters, doc_types=_narrowing, buckets=_narrowing)


def test_the_filter_carries_exactly_the_principals_roles() -> None:
    principal = Principal.from_key("k", ["hr", "public"])
    flt = search_filter(principal, RequestedFilters(doc_types=frozenset({"legal"})))
    assert flt.roles == frozenset({"hr", "public"})


def test_a_request_named_after_a_role_adds_no_role() -> None:
    """A bucket or doc type named like a role the key lacks stays a narrowing, not a role."""
    principal = Principal.from_key("k", ["public"])
    flt = search_filter(
        principal,
        RequestedFilters(doc_types=frozenset({"admin"}), buckets=frozenset({"hr"})),
    )
    assert flt.roles == frozenset({"public"})
    assert flt.doc_types == frozenset({"admin"})
    assert flt.buckets == frozenset({"hr"})


def test_the_requests_narrowing_is_kept() -> None:
    principal = Principal.from_key("k", ["hr"])
    flt = search_filter(
        principal,
        RequestedFilters(doc_types=frozenset({"legal", "faq"}), buckets=frozenset({"policies"})),
    )
    assert flt.doc_types == frozenset({"legal", "faq"})
    assert flt.buckets == frozenset({"policies"})
    assert flt.document_ids is None
    assert can_match(flt)


def test_no_request_means_no_narrowing() -> None:
    flt = search_filter(Principal.from_key("k", ["hr"]))
    assert (flt.doc_types, flt.buckets, flt.document_ids) == (None, None, None)
    assert can_match(flt)


def test_an_empty_narrowing_matches_nothing() -> None:
    """An empty list in a request must not be read as "no narrowing"."""
    flt = search_filter(Principal.from_key("k", ["hr"]), RequestedFilters(buckets=frozenset()))
    assert flt.buckets == frozenset()
    assert not can_match(flt)


@pytest.mark.parametrize(
    "requested",
    [
        None,
        RequestedFilters(),
        RequestedFilters(doc_types=frozenset({"legal"}), buckets=frozenset({"hr", "admin"})),
    ],
)
def test_a_principal_without_roles_gets_a_filter_that_matches_nothing(
    requested: RequestedFilters | None,
) -> None:
    flt = search_filter(Principal.from_key("k", []), requested)
    assert flt.roles == frozenset()
    assert not can_match(flt)


def test_requested_filters_have_no_field_that_could_carry_roles() -> None:
    fields = {f.name for f in dataclasses.fields(RequestedFilters)}
    assert fields == {"doc_types", "buckets"}
    with pytest.raises(TypeError):
        RequestedFilters(roles=frozenset({"admin"}))  # type: ignore[call-arg]


@given(roles=_name_sets, requested=_requested)
def test_for_any_request_the_filter_roles_are_the_principals_roles(
    roles: frozenset[str], requested: RequestedFilters
) -> None:
    flt = search_filter(Principal.from_key("k", roles), requested)
    assert flt.roles == roles
    assert flt.doc_types == requested.doc_types
    assert flt.buckets == requested.buckets
    assert flt.document_ids is None
    if not roles:
        assert not can_match(flt)


def test_key_id_is_a_fingerprint_not_the_key() -> None:
    principal = Principal.from_key("super-secret-key", ["a"])
    assert "super-secret-key" not in principal.key_id
    assert principal.key_id == Principal.from_key("super-secret-key", []).key_id
    assert principal.key_id != Principal.from_key("another-key", ["a"]).key_id
