"""``/ask`` over HTTP at scale: latency, throughput and memory of the real server.

On demand, not in CI. Builds (or reuses) an embedded data directory holding N chunks,
starts ``ragline serve`` on it as a child process on a free loopback port (no models
file: extractive answers), asks the query set with 1, 4 and 16 concurrent clients
(threads, one keep-alive ``httpx.Client`` each) and prints a table with a PASS/FAIL
line per goal.

    .venv/bin/python -m benchmarks.ask_bench --chunks 10000 [--json out.json]

The data: passages of a BEIR corpus (msmarco-5k), ``--per-file`` (20) passages to a
markdown document, each under its own heading, so one passage is one chunk (a passage
over the chunk window, rare in msmarco, becomes two). Past the corpus's size, copy
``k`` of a passage has its sentences rotated by ``k`` and ends with ``(variant k)``:
every copy is a distinct chunk and vector, near enough its original to compete with
it. Document ``d`` goes to bucket ``public`` (role ``public``) when ``d`` is even,
else ``finance`` (role ``finance``); the benchmark's key holds ``public`` only, so the
role filter halves what each search may return. One finance-only passage (the
sentinel) lets the run check the filter: the public key must get no citation of it,
the finance key must.

The directory is keyed by the corpus, N and ``--per-file`` under ``--workdir`` and reused by later
runs; an interrupted build resumes (ingestion skips unchanged files). Building is
timed but is not the measurement.

The server's retrieval stage comes from its ``ragline_answer_stage_duration_seconds``
histogram on ``/metrics`` (read before and after each client count): its buckets are
5, 10, 25, 50 ms..., so the stage quantiles are interpolated within a bucket, while
"share of retrievals within 10 ms" is exact. ``/ask`` latency is the client's wall
time per request (HTTP included); the server's own ``latency_ms`` is kept too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "retrieval" / "msmarco-5k"
BUILD_VERSION = 1  # bump when the layout or the variation rule changes

KEYS = {
    "bench-public": ["public"],
    "bench-finance": ["finance"],
    "bench-metrics": ["metrics"],
}
PUBLIC_KEY, FINANCE_KEY, METRICS_KEY = KEYS

SENTINEL_NAME = "finance-sentinel.txt"
SENTINEL_TEXT = (
    "Treasury memo on the Zephyr reserve account.\n\n"
    "The codeword for the Zephyr reserve account is MARIGOLD-ALPHA. The treasury changes "
    "the Zephyr reserve account codeword every quarter and tells only the finance team."
)
SENTINEL_QUESTION = "What is the codeword for the Zephyr reserve account?"

STAGE_METRIC = "ragline_answer_stage_duration_seconds"
GOAL_RETRIEVE_P95_MS = 10.0
GOAL_ASK_P95_MS = 50.0
GOAL_RSS_MB = 1536.0
GOAL_AT_CHUNKS = 100_000


# ---------------------------------------------------------------- the data directory


@dataclass(frozen=True, slots=True)
class Built:
    data_dir: Path
    chunks: int
    documents: int
    failed: int
    build_s: float
    reused: bool


def _passages(corpus: Path) -> list[str]:
    rows = [
        json.loads(line) for line in corpus.read_text(encoding="utf-8").split("\n") if line.strip()
    ]
    return [f"{r.get('title') or ''}\n\n{r['text']}".strip() for r in rows]


def _variant(text: str, k: int) -> str:
    """Copy ``k`` of a passage: sentences rotated by ``k``, marked; copy 0 is the passage."""
    if k == 0:
        return text
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    turn = k % len(sentences)
    return " ".join(sentences[turn:] + sentences[:turn]) + f" (variant {k})"


def _write_corpus(root: Path, passages: list[str], chunks: int, per_file: int) -> None:
    """Markdown documents of ``per_file`` passages, one section (so one chunk) each."""
    for bucket in ("public", "finance"):
        (root / bucket).mkdir(parents=True, exist_ok=True)
    for d, first in enumerate(range(0, chunks, per_file)):
        bucket = "public" if d % 2 == 0 else "finance"
        path = root / bucket / f"{bucket}-{d:06d}.md"
        if path.exists():
            continue
        sections = []
        for i in range(first, min(first + per_file, chunks)):
            k, j = divmod(i, len(passages))
            sections.append(f"## Passage {i}\n\n{_variant(passages[j], k)}\n")
        path.write_text(f"# {bucket.title()} notes {d}\n\n" + "\n".join(sections))
    (root / "finance" / SENTINEL_NAME).write_text(SENTINEL_TEXT)


def _settings_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGLINE_")}
    env.update(
        RAGLINE_DATA_DIR=str(data_dir),
        RAGLINE_API_KEYS=json.dumps(KEYS),
        HF_HUB_OFFLINE="1",
        DO_NOT_TRACK="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def build(
    workdir: Path, corpus: Path, chunks: int, *, per_file: int = 20, log: bool = True
) -> Built:
    """The keyed data directory for ``chunks`` chunks, built here unless a run left it built."""
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:10]
    home = workdir / f"{corpus.parent.name}-{digest}-{chunks}x{per_file}-v{BUILD_VERSION}"
    data_dir = home / "data"
    marker = home / "built.json"
    if marker.exists():
        done = json.loads(marker.read_text())
        return Built(data_dir, done["chunks"], done["documents"], done["failed"],
                     done["build_s"], reused=True)  # fmt: skip

    # Imported here: the runtime pulls in torch and the model; the client side never needs it.
    from ingest.folder import ingest_paths, list_files
    from kernel.settings import Settings
    from ragline.runtime import open_runtime

    started = time.perf_counter()
    _write_corpus(home / "corpus", _passages(corpus), chunks, per_file)
    documents = -(-chunks // per_file) + 1
    settings = Settings(data_dir=data_dir, api_keys=SecretStr(json.dumps(KEYS)))
    runtime = open_runtime(settings)
    counted = [0]

    def progress(_: object) -> None:
        counted[0] += 1
        if log and counted[0] % 50 == 0:
            rate = counted[0] / (time.perf_counter() - started)
            print(f"  built {counted[0]}/{documents} documents ({rate:.1f}/s)", flush=True)

    reports = []
    try:
        for bucket in ("public", "finance"):
            folder = home / "corpus" / bucket
            reports += ingest_paths(
                runtime.ingestion,
                folder,
                list_files(folder),
                bucket=bucket,
                roles=[bucket],
                doc_type=None,
                on_file=progress,
                on_resume=lambda _: None,
            )
    finally:
        runtime.close()
    build_s = time.perf_counter() - started
    built = Built(
        data_dir,
        chunks=sum(r.chunks for r in reports),
        documents=len(reports),
        failed=sum(r.outcome == "failed" for r in reports),
        build_s=build_s,
        reused=False,
    )
    marker.write_text(json.dumps({k: v for k, v in asdict(built).items() if k != "data_dir"}))
    return built


def optimize_index(data_dir: Path) -> float:
    """Seconds spent optimising the built index before the server opens it.

    A build by this code ends optimised (``EdgeIndex.close``); one left by an older
    ragline is optimised here, so the server's own open (which would do it, holding the
    process meanwhile) stays within the start-up deadline and is not measured.
    """
    from kernel.settings import Settings
    from retrieval.index.edge import EdgeIndex

    started = time.perf_counter()
    # 384: the shipped MiniLM's size, which every build here uses.
    with EdgeIndex(Settings(data_dir=data_dir).index_path, 384):
        pass
    return time.perf_counter() - started


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RssWatch:
    """Polls a process's resident set size; the peak seen, and the kernel's own (VmHWM)."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        self._proc = psutil.Process(pid)
        self._every_s = every_s
        self._stop = threading.Event()
        self.peak_bytes = 0
        self._thread = threading.Thread(target=self._run, name="rss-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_bytes = max(self.peak_bytes, self._proc.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(self._every_s)

    def high_water_bytes(self) -> int | None:
        try:
            status = Path(f"/proc/{self._proc.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) * 1024 if found else None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    rss: RssWatch
    startup_s: float


@contextmanager
def serving(data_dir: Path, log_path: Path) -> Iterator[Server]:
    """``ragline serve`` on the data directory, on a free loopback port, until ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragline", "serve", "--port", str(port)],
            cwd=REPO,
            env=_settings_env(data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        rss = RssWatch(proc.pid)
        try:
            deadline = time.monotonic() + 300
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server exited during start-up; see {log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server was not ready in 300 s; see {log_path}")
                try:
                    if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.3)
            yield Server(url, proc, rss, time.perf_counter() - started)
        finally:
            rss.stop()
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)


# ---------------------------------------------------------------- asking


@dataclass
class Level:
    clients: int
    requests: int
    ok: int
    found: int
    with_citations: int
    seconds: float
    req_per_s: float
    ask_ms: dict[str, float]
    # Split by whether the server had seen the question before (its sentence cache
    # holds the vectors of that question's chunks then): first asks, and repeats.
    first_asks: int
    ask_first_ms: dict[str, float]
    ask_repeat_ms: dict[str, float]
    server_ms: dict[str, float]
    stages_ms: dict[str, dict[str, float]]
    retrieve_within_10ms: float | None
    peak_rss_mb: float
    # Citations by the bucket their file belongs to (file names start with the bucket).
    cited_buckets: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _quantiles(samples: Sequence[float]) -> dict[str, float]:
    if len(samples) < 2:
        value = samples[0] if samples else float("nan")
        return {"p50": value, "p95": value, "p99": value, "mean": value}
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": qs[49], "p95": qs[94], "p99": qs[98], "mean": statistics.fmean(samples)}


def _stage_histograms(url: str) -> dict[str, dict[str, float]]:
    """Each stage's cumulative bucket counts ({le: count}) plus ``_sum`` and ``_count``."""
    text = httpx.get(f"{url}/metrics", headers=_auth(METRICS_KEY), timeout=30).text
    stages: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != STAGE_METRIC:
            continue
        for sample in family.samples:
            stage = stages.setdefault(sample.labels["stage"], {})
            if sample.name.endswith("_bucket"):
                stage[sample.labels["le"]] = sample.value
            elif sample.name.endswith("_sum"):
                stage["_sum"] = sample.value
            elif sample.name.endswith("_count"):
                stage["_count"] = sample.value
    return stages


def _histogram_quantile(q: float, buckets: dict[str, float]) -> float:
    """Prometheus's ``histogram_quantile``: linear within the bucket the rank falls in."""
    bounds = sorted((float(le), n) for le, n in buckets.items() if not le.startswith("_"))
    total = bounds[-1][1] if bounds else 0.0
    if total <= 0:
        return float("nan")
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, cumulative in bounds:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower
            share = (rank - below) / (cumulative - below) if cumulative > below else 0.0
            return lower + (upper - lower) * share
        lower, below = upper, cumulative
    return lower


def _stage_summary(
    before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for stage, counts in after.items():
        prior = before.get(stage, {})
        delta = {k: v - prior.get(k, 0.0) for k, v in counts.items()}
        n = delta.get("_count", 0.0)
        if n <= 0:
            continue
        out[stage] = {
            "count": n,
            "mean": 1000 * delta["_sum"] / n,
            "p50": 1000 * _histogram_quantile(0.50, delta),
            "p95": 1000 * _histogram_quantile(0.95, delta),
            "within_10ms": delta.get("0.01", 0.0) / n,
        }
    return out


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _ask_all(
    url: str, questions: list[str], clients: int, requests: int, seen: set[int]
) -> dict[str, Any]:
    """``requests`` questions (the set, cycled) over ``clients`` threads; per-request records."""
    lock = threading.Lock()
    taken = [0]
    records: list[tuple[float, int, dict[str, Any], bool]] = []

    def client() -> None:
        with httpx.Client(base_url=url, headers=_auth(PUBLIC_KEY), timeout=120) as http:
            while True:
                with lock:
                    n = taken[0]
                    if n >= requests:
                        return
                    taken[0] += 1
                    q = n % len(questions)
                    first = q not in seen
                    seen.add(q)
                t0 = time.perf_counter()
                resp = http.post("/ask", json={"question": questions[q]})
                wall = (time.perf_counter() - t0) * 1000
                body = resp.json() if resp.status_code == 200 else None
                with lock:
                    records.append(
                        (wall, resp.status_code, body or {"error": resp.text[:200]}, first)
                    )

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.perf_counter() - t0, "records": records}


def run_level(
    server: Server, questions: list[str], clients: int, requests: int, seen: set[int]
) -> Level:
    server.rss.peak_bytes = 0  # the peak while this client count ran
    before = _stage_histograms(server.url)
    done = _ask_all(server.url, questions, clients, requests, seen)
    after = _stage_histograms(server.url)
    records = done["records"]
    ok = [(wall, body) for wall, status, body, _ in records if status == 200]
    errors = [f"{status}: {body}" for _, status, body, _ in records if status != 200][:5]
    first = [wall for wall, status, _, was_first in records if status == 200 and was_first]
    repeat = [wall for wall, status, _, was_first in records if status == 200 and not was_first]
    stages = _stage_summary(before, after)
    cited = Counter(c["source"].split("-", 1)[0] for _, body in ok for c in body["citations"])
    return Level(
        clients=clients,
        requests=len(records),
        ok=len(ok),
        found=sum(bool(body["found"]) for _, body in ok),
        with_citations=sum(bool(body["citations"]) for _, body in ok),
        seconds=done["seconds"],
        req_per_s=len(records) / done["seconds"],
        ask_ms=_quantiles([wall for wall, _ in ok]),
        first_asks=len(first),
        ask_first_ms=_quantiles(first),
        ask_repeat_ms=_quantiles(repeat),
        server_ms=_quantiles([float(body["latency_ms"]) for _, body in ok]),
        stages_ms=stages,
        retrieve_within_10ms=stages.get("retrieve", {}).get("within_10ms"),
        peak_rss_mb=server.rss.peak_bytes / 2**20,
        cited_buckets=dict(cited),
        errors=errors,
    )


def role_check(url: str) -> dict[str, Any]:
    """The finance-only sentinel: never cited for the public key, cited for the finance key."""
    out: dict[str, Any] = {"question": SENTINEL_QUESTION}
    for name, key in (("public", PUBLIC_KEY), ("finance", FINANCE_KEY)):
        resp = httpx.post(
            f"{url}/ask", json={"question": SENTINEL_QUESTION}, headers=_auth(key), timeout=120
        )
        body = resp.json()
        sources = [c["source"] for c in body.get("citations", [])]
        out[name] = {
            "status": resp.status_code,
            "found": body.get("found"),
            "sources": sources,
            "cites_sentinel": SENTINEL_NAME in sources,
            "cites_finance": any(s.startswith("finance") for s in sources),
        }
    out["filter_holds"] = not out["public"]["cites_finance"] and out["finance"]["cites_sentinel"]
    return out


# ---------------------------------------------------------------- report


def _machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "load_before": list(load_before),
        "load_after": list(os.getloadavg()),
        "python": sys.version.split()[0],
        # Inherited by the server: torch's intra-op threads. On a busy 2-core machine 1
        # thread made first asks about 8x faster than torch's default (2026-11-30 runs).
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    one = next((lv for lv in result["levels"] if lv["clients"] == 1), None)
    if one is None:
        return []
    retrieve_p95 = one["stages_ms"].get("retrieve", {}).get("p95", float("nan"))
    share = one["retrieve_within_10ms"] or 0.0
    rss = max(
        result["server"]["vm_hwm_mb"] or 0.0, max(lv["peak_rss_mb"] for lv in result["levels"])
    )
    rows = [
        ("retrieval stage p95 < 10 ms (1 client)", share >= 0.95,
         f"~{retrieve_p95:.1f} ms; {100 * share:.1f}% within 10 ms"),
        ("whole /ask p95 < 50 ms (1 client)", one["ask_ms"]["p95"] < GOAL_ASK_P95_MS,
         f"{one['ask_ms']['p95']:.1f} ms"),
        ("API peak RSS < 1.5 GB", rss < GOAL_RSS_MB, f"{rss:.0f} MB"),
    ]  # fmt: skip
    return [{"goal": g, "pass": ok, "measured": m} for g, ok, m in rows]


def print_report(result: dict[str, Any]) -> None:
    b, m, s = result["build"], result["machine"], result["server"]
    how = "reused" if b["reused"] else "built"
    print(
        f"\ndata: {b['chunks']} chunks in {b['documents']} documents ({b['failed']} failed), "
        f"{how}; building took {b['build_s']:.0f} s"
    )
    print(f"server: ready in {s['startup_s']:.1f} s; VmHWM {s['vm_hwm_mb']:.0f} MB")
    print(
        f"machine: {m['cores']} cores, load {m['load_before'][0]:.2f} before, "
        f"{m['load_after'][0]:.2f} after (1-min averages); "
        f"OMP_NUM_THREADS={m['omp_num_threads'] or 'unset'}\n"
    )
    head = (
        f"{'clients':>7} {'requests':>8} {'req/s':>7} {'ask p50':>8} {'p95':>7} {'p99':>7} "
        f"{'retr p50':>9} {'retr p95':>9} {'<=10ms':>7} {'srv p95':>8} {'RSS MB':>7}"
    )
    print(head)
    print("-" * len(head))
    for lv in result["levels"]:
        r = lv["stages_ms"].get("retrieve", {"p50": float("nan"), "p95": float("nan")})
        share = lv["retrieve_within_10ms"]
        print(
            f"{lv['clients']:>7} {lv['requests']:>8} {lv['req_per_s']:>7.1f} "
            f"{lv['ask_ms']['p50']:>8.1f} {lv['ask_ms']['p95']:>7.1f} {lv['ask_ms']['p99']:>7.1f} "
            f"{r['p50']:>9.1f} {r['p95']:>9.1f} "
            f"{'-' if share is None else f'{100 * share:.0f}%':>7} "
            f"{lv['server_ms']['p95']:>8.1f} {lv['peak_rss_mb']:>7.0f}"
        )
    for lv in result["levels"]:
        f, r = lv["ask_first_ms"], lv["ask_repeat_ms"]
        print(
            f"{lv['clients']:>7} clients: {lv['first_asks']} first asks p50/p95 "
            f"{f['p50']:.1f}/{f['p95']:.1f}; {lv['requests'] - lv['first_asks']} repeats "
            f"p50/p95 {r['p50']:.1f}/{r['p95']:.1f}"
        )
    print("(ms; ask = client wall time per request; retr = the server's retrieve stage,")
    print(" interpolated in 5/10/25 ms histogram buckets; srv = the answer's own latency_ms)")
    stage_names = sorted({st for lv in result["levels"] for st in lv["stages_ms"]})
    print("\nserver stages, mean ms: " + ", ".join(
        f"{st} " + "/".join(f"{lv['stages_ms'].get(st, {}).get('mean', 0):.1f}"
                            for lv in result["levels"])
        for st in stage_names
    ) + "  (per client count)")  # fmt: skip
    rc = result["role_check"]
    print(
        f"role filter: public key cites finance: {rc['public']['cites_finance']}; "
        f"finance key cites the sentinel: {rc['finance']['cites_sentinel']}"
    )
    note = "" if b["chunks"] >= GOAL_AT_CHUNKS else f" (goals are set at {GOAL_AT_CHUNKS:,} chunks)"
    print(f"\ngoals{note}:")
    for g in result["goals"]:
        print(f"  {'PASS' if g['pass'] else 'FAIL'}  {g['goal']}: {g['measured']}")


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ragline-askbench"))
    parser.add_argument("--corpus", type=Path, default=DATA / "corpus.jsonl")
    parser.add_argument("--queries", type=Path, default=DATA / "queries.jsonl")
    parser.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    parser.add_argument(
        "--per-file", type=int, default=20, help="passages (chunks) per markdown document"
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per client count")
    parser.add_argument("--warmup", type=int, default=10, help="requests before measuring")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"data directory for {args.chunks} chunks under {args.workdir} ...", flush=True)
    built = build(args.workdir, args.corpus, args.chunks, per_file=args.per_file)
    optimize_s = optimize_index(built.data_dir)
    print(f"index optimised in {optimize_s:.1f} s (nothing to do once done)", flush=True)
    lines = args.queries.read_text(encoding="utf-8").split("\n")
    questions = [json.loads(line)["text"] for line in lines if line.strip()]
    levels: list[Level] = []
    seen: set[int] = set()  # questions the server was asked already
    with serving(built.data_dir, built.data_dir.parent / "server.log") as server:
        if args.warmup:
            _ask_all(server.url, questions, 1, args.warmup, seen)
        for clients in (int(c) for c in args.clients.split(",")):
            print(f"asking with {clients} client(s) ...", flush=True)
            levels.append(run_level(server, questions, clients, args.requests, seen))
        checked = role_check(server.url)
        hwm = server.rss.high_water_bytes()
        server_info = {
            "startup_s": server.startup_s,
            "vm_hwm_mb": hwm / 2**20 if hwm is not None else None,
            "pid": server.proc.pid,
        }
    build_info = {k: v for k, v in asdict(built).items() if k != "data_dir"}
    build_info["optimize_s"] = optimize_s
    result: dict[str, Any] = {
        "chunks": args.chunks,
        "data_dir": str(built.data_dir),
        "build": build_info,
        "server": server_info,
        "machine": _machine(load_before),
        "levels": [asdict(lv) for lv in levels],
        "role_check": checked,
    }
    result["goals"] = goals(result)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
        print(f"\nwrote {args.json}")
    return result


if __name__ == "__main__":
    main()
