"""The block policy for questions holding personal data, on an app of its own.

Its own module: two embedded apps open at once in one process would share Celery's
process-wide state, and the second one's shutdown stops the first one's workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import auth
from tests.e2e.test_api_pii import CARD, QUESTION, READER_KEY, _client, _echo_source_one
from tests.llm_double import ChatDouble, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("external", "inhouse") as started:
        for double in started.values():
            double.reply = _echo_source_one
        yield started


def test_the_block_policy_refuses_a_question_with_personal_data_without_echoing_it(
    tmp_path: Any, embedder: Any, doubles: dict[str, ChatDouble]
) -> None:
    # Structured identifiers only: the card number is what this test is about.
    blocking_pii = {"questions": "block", "names_and_locations": False}
    for blocking in _client(tmp_path, embedder, doubles, pii=blocking_pii):
        resp = blocking.post(
            "/ask",
            json={"question": QUESTION, "filters": {"bucket": ["payroll"]}},
            headers=auth(READER_KEY),
        )
        assert resp.status_code == 422
        assert "CREDIT_CARD" in resp.text
        assert CARD not in resp.text
        assert doubles["external"].received() == []

        plain = blocking.post(
            "/ask",
            json={"question": "When are salaries paid?", "filters": {"bucket": ["payroll"]}},
            headers=auth(READER_KEY),
        )
        assert plain.status_code == 200, plain.text
