"""Scrape-time gauges over real databases: document counts, index lag, budget ratios.

The stores are the real adapters on SQLite and PostgreSQL; the outage is a private
PostgreSQL cluster stopped under them (``tests/private_services.py``), as in
``test_database_outage``. A family that cannot be read is absent from the scrape, and the
scrape itself never fails.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import create_engine

from api.deps import AppServices
from ingest.bucket_catalog import BucketCatalog
from ingest.refresh_log import RefreshRuns
from ingest.registry import Registry
from kernel.models_config import Budgets, Limits
from ragline.metrics_collectors import BudgetRatios, DocumentCounts, IndexLag
from ragline.service import open_services
from tests.conftest import make_settings
from tests.postgres_db import database_url
from tests.private_services import PrivatePostgres
from usage.budgets import BudgetGuard
from usage.ledger import UsageEvent, UsageLedger

pytestmark = pytest.mark.service

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DEFAULT_MAX_LAG_S = 900


@dataclass
class Stores:
    registry: Registry
    catalog: BucketCatalog
    runs: RefreshRuns


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    with database_url(request.param, tmp_path) as url:
        registry = Registry(url)
        try:
            yield Stores(registry, BucketCatalog(registry.engine), RefreshRuns(registry.engine))
        finally:
            registry.close()


def scrape(*collectors: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample the collectors give on a registry of their own: (name, labels) -> value."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in collectors:
        registry.register(collector)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
    }


def _register(stores: Stores, bucket: str, key: str, changed_at: datetime | None = None) -> str:
    registration = stores.registry.register(
        bucket=bucket,
        key=key,
        content_hash=f"hash-{key}",
        size_bytes=10,
        roles=["staff"],
        doc_type=None,
        title=None,
        changed_at=changed_at,
    )
    return registration.document.id


def _index(stores: Stores, document_id: str) -> None:
    registry = stores.registry
    registry.mark_processing(document_id)
    version = registry.next_version(document_id)
    registry.mark_indexed(
        document_id,
        version=version,
        content_hash="hash",
        fingerprint="print",
        chunks=1,
        detected_type="generic",
        fmt="txt",
        title=None,
        parse_seconds=0.1,
        built_roles=["staff"],
        incarnation=registry.get(document_id).incarnation,
    )


def test_documents_are_counted_per_status_every_status_present(stores: Stores) -> None:
    counts = DocumentCounts(stores.registry)
    assert scrape(counts) == {
        ("ragline_documents", (("status", s),)): 0.0
        for s in ("queued", "processing", "indexed", "failed")
    }
    stores.catalog.create_bucket("docs", ["staff"], None, None)
    ids = [_register(stores, "docs", f"{n}.txt") for n in range(5)]
    _index(stores, ids[0])
    _index(stores, ids[1])
    stores.registry.mark_processing(ids[2])
    stores.registry.mark_failed(ids[3], code="unsupported_format", message="not a document")
    assert scrape(counts) == {
        ("ragline_documents", (("status", "queued"),)): 1.0,
        ("ragline_documents", (("status", "processing"),)): 1.0,
        ("ragline_documents", (("status", "indexed"),)): 2.0,
        ("ragline_documents", (("status", "failed"),)): 1.0,
    }


def test_a_bucket_with_an_old_unsearchable_change_lags_and_shows_its_sla(stores: Stores) -> None:
    stores.catalog.create_bucket("slow", ["staff"], None, None, max_lag_s=60)
    stores.catalog.create_bucket("fresh", ["staff"], None, None)
    _register(stores, "slow", "old.txt", changed_at=NOW - timedelta(minutes=10))
    _register(stores, "slow", "newer.txt", changed_at=NOW - timedelta(minutes=1))
    _index(stores, _register(stores, "fresh", "done.txt", changed_at=NOW - timedelta(days=1)))
    lag = IndexLag(
        stores.registry,
        stores.catalog,
        stores.runs,
        default_max_lag_s=DEFAULT_MAX_LAG_S,
        clock=lambda: NOW,
    )
    assert scrape(lag) == {
        ("ragline_index_lag_seconds", (("bucket", "slow"),)): 600.0,  # the oldest change
        ("ragline_index_lag_sla_seconds", (("bucket", "slow"),)): 60.0,
        ("ragline_index_lag_seconds", (("bucket", "fresh"),)): 0.0,
        ("ragline_index_lag_sla_seconds", (("bucket", "fresh"),)): float(DEFAULT_MAX_LAG_S),
    }


MODELS_YAML = """\
deployments:
  - name: mini
    model: openai/gpt-4o-mini
    tier: fast
budgets:
  teams:
    search: {daily_hard_usd: 5, daily_soft_usd: 4, monthly_soft_usd: 8}
  keys:
    ci-bot: {monthly_hard_usd: 2}
"""


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[AppServices]:
    """The serving process as ``ragline serve`` opens it, with a models file."""
    root = tmp_path_factory.mktemp("collectors")
    models = root / "models.yaml"
    models.write_text(MODELS_YAML)
    settings = make_settings(root / "data", models_file=models)
    with open_services(settings, dense=embedder) as opened:
        yield opened


def _spend(ledger: UsageLedger, answer_id: str, cost: float, key_name: str | None) -> None:
    ledger.record(
        UsageEvent(
            answer_id=answer_id,
            key_id="key-0123456789ab",
            key_name=key_name,
            team="search",
            deployment="mini",
            prompt_tokens=100,
            completion_tokens=20,
            cost_usd=cost,
            created_at=datetime.now(UTC),
        )
    )


def test_budget_ratios_are_spend_over_the_hard_limit_or_the_soft_one(
    services: AppServices,
) -> None:
    engine = create_engine(services.settings.registry_url)  # the answers' ledger, as written
    try:
        ledger = UsageLedger(engine)
        _spend(ledger, "answer-1", 2.0, None)
        _spend(ledger, "answer-2", 0.5, "ci-bot")
    finally:
        engine.dispose()
    registry = services.metrics.registry

    def ratio(scope: str, subject: str, period: str) -> float | None:
        labels = {"scope": scope, "subject": subject, "period": period}
        return registry.get_sample_value("ragline_budget_spent_ratio", labels)

    assert ratio("team", "search", "day") == pytest.approx(2.5 / 5)  # the hard limit
    assert ratio("team", "search", "month") == pytest.approx(2.5 / 8)  # no hard: the soft one
    assert ratio("key", "ci-bot", "month") == pytest.approx(0.5 / 2)
    assert ratio("key", "ci-bot", "day") is None  # no daily limit, no series


def test_the_serving_process_exposes_every_scrape_time_family(services: AppServices) -> None:
    services.ingestion.buckets.create_bucket("handbook", ["staff"], None, None)
    text = generate_latest(services.metrics.registry).decode()
    assert 'ragline_documents{status="indexed"} 0.0' in text
    assert 'ragline_index_lag_seconds{bucket="handbook"} 0.0' in text
    assert f'ragline_index_lag_sla_seconds{{bucket="handbook"}} {DEFAULT_MAX_LAG_S}.0' in text
    assert "ragline_budget_spent_ratio{" in text
    assert "ragline_answer_records_pending 0.0" in text


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    with PrivatePostgres.create() as server:
        yield server


def test_an_unreachable_database_leaves_the_families_out_and_never_fails_a_scrape(
    postgres: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    registry = Registry(postgres.url)
    try:
        stores = Stores(registry, BucketCatalog(registry.engine), RefreshRuns(registry.engine))
        stores.catalog.create_bucket("docs", ["staff"], None, None)
        _register(stores, "docs", "a.txt", changed_at=NOW - timedelta(minutes=5))
        budgets = Budgets(teams={"search": Limits(daily_hard_usd=5)})
        guard = BudgetGuard(UsageLedger(registry.engine), budgets, clock=lambda: NOW)
        collectors = (
            DocumentCounts(registry),
            IndexLag(registry, stores.catalog, stores.runs, default_max_lag_s=60),
            BudgetRatios(guard),
        )
        served = CollectorRegistry(auto_describe=True)
        for collector in collectors:
            served.register(collector)
        names = {s.name for f in served.collect() for s in f.samples}
        assert names == {
            "ragline_documents",
            "ragline_index_lag_seconds",
            "ragline_index_lag_sla_seconds",
            "ragline_budget_spent_ratio",
        }

        postgres.stop()
        try:
            with caplog.at_level(logging.INFO, logger="ragline.metrics_collectors"):
                for _ in range(2):
                    assert b"ragline_documents{" not in generate_latest(served)
                assert [s for f in served.collect() for s in f.samples] == []
                warnings = [r for r in caplog.records if r.name == "ragline.metrics_collectors"]
                # Once per family when the outage starts, naming no host.
                assert len(warnings) == 3
                assert all("127.0.0.1" not in r.getMessage() for r in warnings)
                assert all("DependencyUnavailableError" in r.getMessage() for r in warnings)
        finally:
            postgres.start()
        back = {s.name for f in served.collect() for s in f.samples}
        assert back == names
    finally:
        registry.close()


def test_a_sqlite_file_that_went_away_leaves_the_family_out(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    registry = Registry(f"sqlite:///{folder / 'registry.db'}")
    try:
        counts = DocumentCounts(registry)
        assert len(scrape(counts)) == 4
        registry.engine.dispose()
        shutil.rmtree(folder)
        assert scrape(counts) == {}
    finally:
        registry.close()
