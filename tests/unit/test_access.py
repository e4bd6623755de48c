import pytest

from retrieval.access import Principal, RequestedFilters, search_filter

pytestmark = pytest.mark.unit


def test_filter_roles_come_from_the_principal_only() -> None:
    principal = Principal.from_key("k", ["hr"])
    flt = search_filter(principal, RequestedFilters(doc_types=frozenset({"legal"})))
    assert flt.roles == frozenset({"hr"})
    assert flt.doc_types == frozenset({"legal"})


def test_principal_without_roles_gets_an_empty_role_filter() -> None:
    assert search_filter(Principal.from_key("k", [])).roles == frozenset()


def test_key_id_is_a_fingerprint_not_the_key() -> None:
    principal = Principal.from_key("super-secret-key", ["a"])
    assert "super-secret-key" not in principal.key_id
    assert principal.key_id == Principal.from_key("super-secret-key", []).key_id
