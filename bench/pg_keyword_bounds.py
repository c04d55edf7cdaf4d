"""What the bounds on PostgreSQL's keyword search cost and keep, on a database built once.

    nice .venv/bin/python bench/search_latency.py --corpus DATA/corpora/arxiv_cs_listings.jsonl.gz \
        --total 1000000 --postgres --no-transformer --keep /tmp/pg1m     # builds it (once)
    nice .venv/bin/python bench/pg_keyword_bounds.py --keep /tmp/pg1m --total 1000000 --write

Over the latency benchmark's 40 queries (bench/search_latency.py), through `PgKeywordIndex`
(search/postgres/tables.py, the keyword side of `search_backend = "postgres"`):
- each query's keyword time (worst of `--rounds`), its class (words, phrase, exclusion,
  filter), and the five slowest;
- how much of the top 10 survives the `MAX_READ` cut: the mean share of the top 10 that a
  ranking reading `--deep` papers per query (far deeper than the bound) returns too, for
  several values of `MAX_READ` (the shipped one marked).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from report import load_average, machine, write_section
from search_latency import QUERIES

from paperboy.config import Settings
from paperboy.search.postgres import tables as pgsearch
from paperboy.search.query import parse_query
from paperboy.search.upkeep import open_indexes
from paperboy.store import open_store


def kind(query: str) -> str:
    q = parse_query(query)
    if q.phrases:
        return "phrase"
    if q.excluded:
        return "exclusion"
    if q.has_filters:
        return "filter"
    return "words"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, required=True, help="search_latency.py's --keep")
    parser.add_argument("--total", type=int, required=True, help="the --total it was built with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deep", type=int, default=30_000, help="papers read by the reference")
    parser.add_argument("--sizes", default="1000,2000,5000", help="MAX_READ values compared")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    from tests.postgres import TestPostgres

    server = TestPostgres(str(args.keep / "postgres"))
    server.set_durable()
    try:
        url = server.create_database(f"paperboy_bench_{args.total}")
        settings = Settings.load(data_dir=args.keep / "data", database_url=url)
        store = open_store(settings)
        keyword = open_indexes(store, settings).keyword
        measure(args, store, keyword)
        store.close()
    finally:
        server.stop()


def measure(args, store, keyword) -> None:
    shipped = pgsearch.MAX_READ
    for query in QUERIES:  # warm-up
        keyword.search(parse_query(query), limit=100)
    worst: dict[str, float] = {}
    times = []
    for _ in range(args.rounds):
        for query in QUERIES:
            started = time.perf_counter()
            keyword.search(parse_query(query), limit=100)
            times.append((time.perf_counter() - started) * 1000)
            worst[query] = max(worst.get(query, 0.0), times[-1])
    times.sort()
    p50, p99 = statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"keyword p50 {p50:.0f} ms, p99 {p99:.0f} ms", flush=True)
    by_kind: dict[str, list[float]] = {}
    for query, ms in worst.items():
        by_kind.setdefault(kind(query), []).append(ms)

    pgsearch.STATEMENT_TIMEOUT_MS = 600_000  # the reference reads far past the bound
    pgsearch.MAX_READ = args.deep
    started = time.monotonic()
    reference = {q: [p for p, _ in keyword.search(parse_query(q), limit=10)[0]] for q in QUERIES}
    print(f"reference ({args.deep:,} read) in {time.monotonic() - started:.0f}s", flush=True)
    kept = []
    for size in [int(s) for s in args.sizes.split(",")]:
        pgsearch.MAX_READ = size
        shares = []
        for query in QUERIES:
            got = {p for p, _ in keyword.search(parse_query(query), limit=10)[0]}
            shares.append(len(got & set(reference[query])) / max(1, len(reference[query])))
        kept.append((size, statistics.mean(shares), min(zip(shares, QUERIES))))
        print(f"MAX_READ {size}: top-10 kept {kept[-1][1]:.3f}", flush=True)
    pgsearch.MAX_READ = shipped
    pgsearch.STATEMENT_TIMEOUT_MS = 2_000

    if args.write:
        slowest = sorted(worst.items(), key=lambda kv: -kv[1])[:5]
        lines = [
            f"`nice .venv/bin/python bench/pg_keyword_bounds.py --keep DIR --total {args.total}"
            f" --write` (DIR built by `bench/search_latency.py ... --postgres --keep DIR`)",
            "",
            f"{machine()}, {date.today().isoformat()}; {store.count_papers():,} papers in "
            "PostgreSQL (the search_latency corpus), keyword side alone "
            f"(`PgKeywordIndex.search`, 100 hits), {len(QUERIES)} queries x {args.rounds} rounds "
            f"after a warm-up. Load averages (1/5/15 min) at the end: {load_average()}.",
            "",
            f"- keyword p50 {p50:.0f} ms, p99 {p99:.0f} ms (MAX_READ {shipped:,})",
            "- worst time per query class (ms): "
            + ", ".join(
                f"{name} {max(ms):.0f} ({len(ms)} queries, median {statistics.median(ms):.0f})"
                for name, ms in sorted(by_kind.items())
            ),
            "- slowest: " + ", ".join(f"`{q}` {ms:.0f} ms" for q, ms in slowest),
            "",
            f"Top 10 kept against a ranking that reads {args.deep:,} papers per query:",
            "",
            "| MAX_READ | mean share of the top 10 kept | lowest (query) |",
            "|---|---|---|",
        ]
        for size, mean, (low, query) in kept:
            mark = " (shipped)" if size == shipped else ""
            lines.append(f"| {size:,}{mark} | {mean:.3f} | {low:.1f} (`{query}`) |")
        write_section(
            f"pg_keyword_bounds_{args.total}",
            f"PostgreSQL keyword search bounds at {args.total:,} papers "
            "(`bench/pg_keyword_bounds.py`)",
            "\n".join(lines),
        )
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
