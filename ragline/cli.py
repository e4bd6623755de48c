"""The ``ragline`` command: serve the API, ingest a folder, ask a question."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kernel.errors import ConfigurationError, DependencyUnavailableError, RaglineError
from kernel.settings import Settings, ensure_local_key, get_settings
from ragline.audit_cli import audit_app
from ragline.cost_cli import cost
from ragline.db_cli import db_app
from ragline.eval_cli import eval_app
from ragline.keys_cli import keys_app
from ragline.logging_setup import configure_logging
from ragline.models_cli import models_app
from ragline.prompts_cli import prompts_app
from ragline.release_cli import release_app
from ragline.review_cli import review_app

app = typer.Typer(
    help="ragline: cited, grounded answers from your documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
app.add_typer(prompts_app, name="prompts")
app.add_typer(release_app, name="release")
app.add_typer(review_app, name="review")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
app.command("cost")(cost)
# soft_wrap: a key or a curl line must stay copyable, never broken across lines.
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"
DEMO_QUESTION = "How many vacation days do full-time employees get?"


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return get_settings()
    except (ValueError, ConfigurationError) as exc:
        raise _fail(f"invalid configuration: {exc}") from None


@app.callback()
def _main(
    log_level: Annotated[
        str | None,
        typer.Option(help="DEBUG, INFO, WARNING or ERROR (default: RAGLINE_LOG_LEVEL)."),
    ] = None,
) -> None:
    settings: Settings | None
    if log_level:  # the level is given: a configuration that does not load is not fatal here
        try:
            settings = get_settings()
        except (ValueError, ConfigurationError):
            settings = None
    else:
        settings = _settings()
    # Text or JSON (RAGLINE_LOG__FORMAT), PII and secrets masked, the request id on each line.
    configure_logging(settings, log_level)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Celery warns about root on every worker start; containers and CI run as root,
    # and the embedded worker executes only ragline's own tasks (no pickle).
    warnings.filterwarnings("ignore", message=".*superuser privileges.*")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Upload the sample documents and answer a first question.")
    ] = False,
) -> None:
    """Serve the API (embedded mode: everything in this process, state in RAGLINE_DATA_DIR)."""
    import uvicorn

    from ragline.service import create_app

    settings = _settings()
    new_key = ensure_local_key(settings)
    if new_key:
        console.print(
            f"Created a local admin key (roles admin, public), kept in "
            f"{settings.data_dir / 'api_keys.json'}:\n  [bold]{new_key}[/]"
        )
    base_url = f"http://{host}:{port}"
    if demo:
        key = _admin_key(settings)
        threading.Thread(
            target=_run_demo, args=(base_url, key), name="ragline-demo", daemon=True
        ).start()
    console.print(f"ragline serving on {base_url} (API docs: {base_url}/docs)")
    # log_config=None: uvicorn's loggers write through the handler configure_logging set.
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", log_config=None)


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues: ingest, ingest_small.")
    ] = "ingest,ingest_small",
    concurrency: Annotated[
        int | None, typer.Option(help="Worker threads (default RAGLINE_WORKERS__GENERAL_THREADS).")
    ] = None,
) -> None:
    """Run an ingestion worker in this process (distributed mode), until SIGTERM or Ctrl-C.

    It builds its own runtime from the environment: the broker, the registry database and
    an index it may open (a Qdrant server in distributed mode).
    """
    from ragline.worker import run_worker

    settings = _settings()
    try:
        code = run_worker(
            settings,
            [q.strip() for q in queues.split(",") if q.strip()],
            concurrency=concurrency,
            loglevel=settings.log_level,
        )
    except RaglineError as exc:
        raise _fail(exc.message) from None
    raise typer.Exit(code)


def _admin_key(settings: Settings) -> str:
    for key, roles in settings.key_roles().items():
        if "admin" in roles:
            return key
    raise _fail("--demo needs a key with the 'admin' role in RAGLINE_API_KEYS")


def _run_demo(base_url: str, key: str) -> None:
    """Upload the samples through the public API, wait for them, ask the first question."""
    import httpx

    from ingest.folder import list_files
    from ragline.remote_ingest import ingest_via_server

    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        for _ in range(600):
            try:
                if http.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        # The same upload-and-wait path as `ragline ingest --server`.
        reports = ingest_via_server(
            base_url,
            key,
            SAMPLES_DIR,
            list_files(SAMPLES_DIR),
            bucket="samples",
            roles=["public"],
            doc_type=None,
            on_file=lambda _: None,
        )
        answer = http.post("/ask", json={"question": DEMO_QUESTION}).json()
    console.print(f"\n[bold]Sample documents ingested ({len(reports)}).[/] First question:")
    console.print(f"  Q: {DEMO_QUESTION}\n  A: {answer.get('answer')}")
    for n, c in enumerate(answer.get("citations", []), start=1):
        console.print(f"     [{n}] {c['title']} ({c['source']}, section {c['section']})")
    console.print(
        "\nAsk your own:\n"
        f"  curl -s {base_url}/ask -H 'Authorization: Bearer {key}' "
        "-H 'Content-Type: application/json' "
        f'-d \'{{"question": "{DEMO_QUESTION}"}}\'\n'
        f"\nOr open the web console at {base_url}/ and sign in with the key above.\n"
    )


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A file or a folder to ingest.")],
    bucket: Annotated[str, typer.Option(help="Bucket to ingest into (created if missing).")],
    roles: Annotated[
        str | None, typer.Option(help="Comma-separated roles that may read these documents.")
    ] = None,
    doc_type: Annotated[
        str | None, typer.Option(help="Chunking strategy; detected per document if omitted.")
    ] = None,
    fail_on_error: Annotated[
        bool, typer.Option(help="Exit with status 1 when any document failed.")
    ] = False,
    server: Annotated[
        str | None,
        typer.Option(help="Upload through this running server instead of writing the index here."),
    ] = None,
    key: Annotated[
        str | None, typer.Option(envvar="RAGLINE_API_KEY", help="Admin API key (with --server).")
    ] = None,
) -> None:
    """Ingest a file or folder, with a progress bar and a per-format summary.

    Without --server this process writes the index itself; in embedded mode the index
    has one writer, so while `ragline serve` runs, pass --server (and --key) to ingest
    through it.
    """
    from chunkers.registry import known_doc_type
    from ingest.folder import list_files

    if not path.exists():
        raise _fail(f"no such file or folder: {path}")
    role_list = sorted({r.strip() for r in (roles or "").split(",") if r.strip()})
    try:
        doc_type = known_doc_type(doc_type)
    except RaglineError as exc:
        raise _fail(exc.message) from None
    files = list_files(path)
    if not files:
        raise _fail(f"no files under {path}")
    _need_key_with_server(server, key)
    from ragline.ingest_lines import document_line, resume_notice, resumed_summary

    rows: list[Any] = []
    plain = not console.is_terminal  # a log: one line per document instead of a bar
    started = time.perf_counter()
    try:
        with Progress(
            TextColumn("[bold]ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=False,
            disable=plain,
        ) as progress:
            task = progress.add_task("", total=len(files))

            def on_file(report: Any) -> None:
                rows.append(report)
                done = len(rows)
                total = max(len(files), done)  # attachments add documents on the way
                progress.update(task, completed=done, total=total, description=report.name)
                if plain:
                    _line(document_line(report, resumed=report.resumed))

            def on_resume(names: Any) -> None:
                if names:
                    _line(resume_notice(bucket, names))

            if server and key:
                from ragline.remote_ingest import ingest_via_server

                ingest_via_server(
                    server,
                    key,
                    path,
                    files,
                    bucket=bucket,
                    roles=role_list,
                    doc_type=doc_type,
                    on_file=on_file,
                )
            else:
                _ingest_here(path, files, bucket, role_list, doc_type, on_file, on_resume)
    except RaglineError as exc:
        raise _fail(exc.message) from None
    _print_summary(rows, time.perf_counter() - started)
    resumed = [r.name for r in rows if r.resumed]
    if resumed:
        _line(resumed_summary(resumed))
    if fail_on_error and any(r.outcome == "failed" for r in rows):
        raise typer.Exit(1)


def _line(text: str) -> None:
    """A plain line of the ingest log (written out at once: rich flushes every print)."""
    console.print(text, markup=False, highlight=False)


def _ingest_here(
    path: Path,
    files: list[Path],
    bucket: str,
    roles: list[str],
    doc_type: str | None,
    on_file: Any,
    on_resume: Any,
) -> None:
    from ingest.folder import Batching, ingest_paths
    from ragline.runtime import open_runtime

    settings = _settings()
    try:
        runtime = open_runtime(settings)
    except DependencyUnavailableError as exc:
        raise DependencyUnavailableError(
            f"{exc.message}\nIf `ragline serve` is running on this data directory, it owns "
            "the index: ingest through it with --server URL --key KEY, or stop it first."
        ) from None
    try:
        ingest_paths(
            runtime.ingestion,
            path,
            files,
            bucket=bucket,
            roles=roles,
            doc_type=doc_type,
            on_file=on_file,
            # Only an embedded data directory has this process as its one writer: there
            # a document left processing is an earlier run's, not a live worker's.
            on_resume=on_resume if settings.mode == "embedded" else None,
            batching=Batching(settings.workers.batch_documents, settings.workers.batch_bytes),
        )
    finally:
        runtime.close()


def _print_summary(rows: list[Any], elapsed: float) -> None:
    by_format: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_format[r.format].append(r)
    table = Table(title="Ingestion summary")
    for col in ("format", "files", "indexed", "unchanged", "failed", "chunks", "seconds"):
        table.add_column(col, justify="left" if col == "format" else "right")
    for fmt in sorted(by_format):
        group = by_format[fmt]
        table.add_row(
            fmt,
            str(len(group)),
            str(sum(r.outcome == "indexed" for r in group)),
            str(sum(r.outcome == "unchanged" for r in group)),
            str(sum(r.outcome == "failed" for r in group)),
            str(sum(r.chunks for r in group)),
            f"{sum(r.seconds for r in group):.1f}",
        )
    table.add_row(
        "[bold]total",
        str(len(rows)),
        str(sum(r.outcome == "indexed" for r in rows)),
        str(sum(r.outcome == "unchanged" for r in rows)),
        str(sum(r.outcome == "failed" for r in rows)),
        str(sum(r.chunks for r in rows)),
        f"{elapsed:.1f}",
    )
    console.print(table)
    failed = [r for r in rows if r.outcome == "failed"]
    if failed:
        console.print("[bold]Failed documents:[/]")
        for r in failed:
            console.print(f"  {r.name}: [red]{r.error_code}[/] {r.error}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    key: Annotated[str, typer.Option(envvar="RAGLINE_API_KEY", help="API key.")],
    server: Annotated[
        str, typer.Option(envvar="RAGLINE_SERVER_URL", help="The ragline server.")
    ] = "http://127.0.0.1:8000",
    top_k: Annotated[int | None, typer.Option(help="Chunks to retrieve.")] = None,
    doc_type: Annotated[list[str] | None, typer.Option(help="Only these document types.")] = None,
    bucket: Annotated[list[str] | None, typer.Option(help="Only these buckets.")] = None,
) -> None:
    """Ask a running server, as POST /ask does."""
    import httpx

    body: dict[str, Any] = {"question": question}
    if top_k:
        body["top_k"] = top_k
    if doc_type or bucket:
        body["filters"] = {"doc_type": doc_type, "bucket": bucket}
    try:
        resp = httpx.post(
            f"{server.rstrip('/')}/ask",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
    except httpx.TransportError:
        raise _fail(f"cannot reach {server}: is `ragline serve` running?") from None
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or (resp.status_code == 200 and "answer" not in data):
        # A proxy's error page or another service on the port: say so, no traceback.
        raise _fail(f"HTTP {resp.status_code} from {server}: not a ragline reply")
    if resp.status_code != 200:
        error = data.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        raise _fail(str(message) if message else f"HTTP {resp.status_code} from {server}")
    console.print(data["answer"])
    for n, c in enumerate(data["citations"], start=1):
        where = ", ".join(
            x for x in (c["source"], c["section"], f"p. {c['page']}" if c["page"] else None) if x
        )
        console.print(f"  [{n}] {c['title']} ({where})")
    grounding = data["grounding"]
    console.print(
        f"grounding {grounding['score']:.2f}"
        + (f", unsupported: {grounding['unsupported']}" if grounding["unsupported"] else "")
        + f" · {data['latency_ms']:.0f} ms"
    )
    usage, prompt = data.get("usage"), data.get("prompt")
    if usage:
        version = (
            f" · prompt {prompt['name']} v{prompt['version']} ({prompt['label']})" if prompt else ""
        )
        console.print(
            f"model {data['model']} · {usage['prompt_tokens']}+{usage['completion_tokens']} "
            f"tokens · ${usage['cost_usd']:.6f}{version}"
        )
    if data.get("degraded"):
        err.print(f"[yellow]degraded:[/] {data.get('degraded_reason')} (extractive answer)")


def _need_key_with_server(server: str | None, key: str | None) -> None:
    if server and not key:
        raise _fail("--server needs --key (or RAGLINE_API_KEY): an API key with the admin role")


@contextlib.contextmanager
def _following(label: str, describe: Callable[[Any], str]) -> Iterator[Callable[[Any], None]]:
    """A progress bar for a long job; yields the callback that reports its run's state."""
    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
    ) as progress:
        task = progress.add_task("starting", total=None)

        def on_progress(run: Any) -> None:
            progress.update(
                task, total=run.total or None, completed=run.done, description=describe(run)
            )

        yield on_progress


_ServerOpt = Annotated[
    str | None, typer.Option(help="Work through this running server instead of locally.")
]
_KeyOpt = Annotated[
    str | None, typer.Option(envvar="RAGLINE_API_KEY", help="Admin API key (with --server).")
]


@app.command("buckets")
def list_buckets(server: _ServerOpt = None, key: _KeyOpt = None) -> None:
    """List buckets with their schedule, index lag against the SLA, and last refresh."""
    from ragline.bucket_views import BucketsClient, local_buckets

    _need_key_with_server(server, key)
    try:
        if server and key:
            with BucketsClient(server, key) as client:
                details = client.buckets()
        else:
            details = local_buckets(_settings())
    except RaglineError as exc:
        raise _fail(exc.message) from None
    table = Table(title="Buckets")
    for col in ("bucket", "source", "schedule", "lag", "SLA", "pending", "failed", "last refresh"):
        table.add_column(col)
    for d in details:
        f = d.freshness
        schedule = d.schedule
        when = "-"
        if schedule is not None:
            when = f"every {schedule.every_s} s" if schedule.every_s else f"cron {schedule.cron}"
        last = d.last_refresh
        table.add_row(
            d.name,
            d.source or "(uploads)",
            when,
            f"[red]{f.lag_s:.0f} s[/]" if f.over_sla else f"{f.lag_s:.0f} s",
            f"{f.max_lag_s} s",
            str(f.pending),
            str(f.failed),
            f"{last.status} {last.queued_at:%Y-%m-%d %H:%M:%S}" if last else "never",
        )
    console.print(table)


@app.command()
def refresh(
    bucket: Annotated[str, typer.Argument(help="The bucket to reconcile with its source.")],
    server: _ServerOpt = None,
    key: _KeyOpt = None,
) -> None:
    """Refresh a bucket now: ingest new and changed objects, remove deleted ones."""
    from ragline.bucket_views import BucketsClient, refresh_here

    _need_key_with_server(server, key)
    try:
        with _following(
            f"refreshing {bucket}",
            lambda run: (
                f"{run.new} new, {run.changed} changed, {run.deleted} deleted, {run.failed} failed"
            ),
        ) as on_progress:
            if server and key:
                with BucketsClient(server, key) as client:
                    run = client.refresh(bucket, on_progress)
            else:
                run = refresh_here(_settings(), bucket, on_progress)
    except RaglineError as exc:
        raise _fail(exc.message) from None
    table = Table(title=f"Refresh {run.refresh_id} of {bucket}: {run.status}")
    for col in ("new", "changed", "deleted", "unchanged", "failed"):
        table.add_column(col, justify="right")
    table.add_row(*(str(n) for n in (run.new, run.changed, run.deleted, run.unchanged, run.failed)))
    console.print(table)
    for failure in run.failures:
        err.print(f"[red]failed[/] {failure.key}: {failure.message} ({failure.code})")
    if run.error:
        raise _fail(run.error)
    if run.status != "finished":
        raise typer.Exit(1)


@app.command()
def reindex(
    server: _ServerOpt = None,
    key: _KeyOpt = None,
    max_failures: Annotated[
        int,
        typer.Option(
            min=0,
            help="Documents that may fail to rebuild and still let the switch happen "
            "(they drop out of search).",
        ),
    ] = 0,
) -> None:
    """Rebuild the whole index with the current chunking and model, then switch to it.

    Search keeps answering from the live index until the new one is complete; a failed
    re-index leaves it untouched.
    """
    from ragline.reindex_command import ReindexClient, reindex_here

    _need_key_with_server(server, key)
    try:
        with _following(
            "re-indexing",
            lambda run: (
                f"generation {run.to_generation or '?'}: "
                f"{run.caught_up} caught up, {run.failed} failed"
            ),
        ) as on_progress:
            if server and key:
                with ReindexClient(server, key) as client:
                    run = client.reindex(on_progress, max_failures=max_failures)
            else:
                run = reindex_here(_settings(), on_progress, max_failures=max_failures)
    except RaglineError as exc:
        raise _fail(exc.message) from None
    table = Table(title=f"Re-index {run.reindex_id}: {run.status}")
    for col in ("documents", "caught up", "failed", "generation"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{run.done}/{run.total}",
        str(run.caught_up),
        str(run.failed),
        f"{run.from_generation} -> {run.to_generation}",
    )
    console.print(table)
    for failure in run.failures:
        err.print(f"[red]failed[/] {failure.key}: {failure.message} ({failure.code})")
    if run.status != "finished":
        raise _fail(run.error or f"the re-index ended {run.status}")
    if run.error:
        err.print(f"[yellow]note:[/] {run.error}")


@app.command()
def beat() -> None:
    """Run the refresh scheduler (distributed mode; embedded `serve` runs its own)."""
    from ragline.scheduler import run_beat

    settings = _settings()
    if settings.mode == "embedded":
        err.print("note: embedded `ragline serve` already runs a scheduler; this one is extra")
    console.print(f"scheduler: checking schedules every {settings.refresh.beat_interval_s} s")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C; SIGTERM ends run_beat itself
        run_beat(settings)
    console.print("scheduler stopped")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
