"""All of arXiv on one box: import, index and serve the size of the full arXiv metadata
snapshot (2.7M papers) through the product's own commands, on SQLite with index files.

    nice .venv/bin/python bench/arxiv_scale.py \
        --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz \
        --head ../shared/data/corpora/arxiv_oai_snapshot_head200.jsonl --total 2700000 --write

1. The corpus, written as one gzip file in the snapshot's own format (Kaggle
   `arxiv-metadata-oai-snapshot.json`: one JSON object a line with `authors` as one string,
   `authors_parsed`, `categories` space-separated, `versions` with RFC 2822 dates,
   `update_date`): the 200 real snapshot lines of `--head` as they are, the 74,728 real arXiv
   cs listings of `--corpus` rewritten into that format, then generated lines up to `--total`.
   A generated paper takes the title, authors and date of one real paper and a shuffled mix
   of 5 to 9 sentences from other real abstracts, with a fresh id (YYMM.NNNNN from 3001 on).
   The file is written as a stream; nothing holds more than the real rows.
2. `paperboy import FILE --quiet` into a fresh data folder, as a user runs it: it stores the
   papers and builds the keyword index, the static ("bulk") vectors and their HNSW graph
   alongside. Its resident memory is sampled every second: it grows with the index it builds
   in memory, while the file is read as a stream.
3. `paperboy serve --workers 1` on that folder; hybrid queries through
   `GET /api/papers/search` (the same 40 queries as bench/search_latency.py), one warm-up pass
   then 3 timed rounds, timed at the client on loopback. The serving process's RSS after them.

`--keyword-breakdown --work FOLDER` (after a run with `--work FOLDER`) times only the keyword
side of that data: as served, counting every match, and the one query served before
2026-12-02 (docs/deploy.md says why). `--graph-recall --work FOLDER` compares the HNSW
graph's answers with exact search at several search expansions. `--latency --work FOLDER`
times hybrid search again (through `serve`, and in one process with the vector side beside
the keyword side and after it).

Targets (issue #16): import + keyword + bulk vectors + vector index in <= 45 minutes on
2 cores, serving RSS <= 4 GB, hybrid p50 <= 20 ms and p99 <= 60 ms.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import closing
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import load_average, write_section
from search_latency import QUERIES, folder_mib, timed
from web_load import bench_env, free_port, start_server

DATA = ROOT.parent / "shared" / "data" / "corpora"


def rfc2822(day: str) -> str:
    """'2025-03-18' as the snapshot writes a version's date."""
    return datetime.strptime(day, "%Y-%m-%d").strftime("%a, %d %b %Y 00:00:00 GMT")


def as_snapshot_line(row: dict, paper_id: str | None = None, abstract: str | None = None) -> dict:
    """An arXiv cs listing row in the snapshot's shape."""
    names = row.get("authors") or []
    day = row.get("_first_listing_date") or "2025-03-18"
    return {
        "id": paper_id or row["id"],
        "submitter": names[0] if names else None,
        "authors": ", ".join(names),
        "title": row["title"],
        "comments": row.get("comment"),
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": " ".join(row.get("categories") or []),
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": abstract if abstract is not None else row["summary"],
        "versions": [{"version": "v1", "created": rfc2822(day)}],
        "update_date": day,
        "authors_parsed": [
            [n.rsplit(" ", 1)[-1], n.rsplit(" ", 1)[0] if " " in n else "", ""] for n in names
        ],
    }


def write_corpus(corpus: Path, head: Path, total: int, out: Path) -> dict:
    """The snapshot-format file; how many lines of each kind it holds."""
    rows = [json.loads(line) for line in gzip.open(corpus, "rt")]
    sentences = [s for r in rows for s in re.split(r"(?<=[.!?])\s+", r["summary"]) if len(s) > 30]
    rng = random.Random(1)
    counts = {"snapshot": 0, "listings": 0, "generated": 0}
    with gzip.open(out, "wt", compresslevel=1) as fh:
        for line in head.read_text().splitlines():
            if line.strip():
                fh.write(line + "\n")
                counts["snapshot"] += 1
        for row in rows:
            fh.write(json.dumps(as_snapshot_line(row)) + "\n")
            counts["listings"] += 1
        month, number = 0, 1
        while sum(counts.values()) < total:
            base = rows[rng.randrange(len(rows))]
            pid = f"{30 + month // 12:02d}{month % 12 + 1:02d}.{number:05d}"
            text = " ".join(rng.sample(sentences, rng.randint(5, 9)))
            fh.write(json.dumps(as_snapshot_line(base, pid, text)) + "\n")
            counts["generated"] += 1
            number += 1
            if number > 99999:
                month, number = month + 1, 1
    return counts


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (MiB)."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def stored(data_dir: Path) -> bool:
    """Whether the import run has stored its last paper (its row says done; the indexes may
    still be catching up)."""
    try:
        with closing(
            sqlite3.connect(f"file:{data_dir / 'paperboy.sqlite3'}?mode=ro", uri=True)
        ) as db:
            row = db.execute("SELECT status FROM import_runs ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return False
    return bool(row) and row[0] == "done"


def run_import(
    data_dir: Path, corpus: Path, log: Path
) -> tuple[float, float | None, list[tuple[float, float]]]:
    """`paperboy import` as a user runs it: wall seconds, seconds until every paper was
    stored, and (seconds, RSS MiB) samples."""
    started = time.perf_counter()
    stored_at = None
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperboy", "--data-dir", str(data_dir), "import", str(corpus)]
            + ["--quiet"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=bench_env(),
        )
        samples: list[tuple[float, float]] = []
        while proc.poll() is None:
            samples.append((time.perf_counter() - started, tree_rss_mib(proc.pid)))
            if stored_at is None and stored(data_dir):
                stored_at = time.perf_counter() - started
            time.sleep(1.0)
    if proc.returncode != 0:
        sys.exit(f"paperboy import failed ({proc.returncode}):\n{log.read_text()[-3000:]}")
    return time.perf_counter() - started, stored_at, samples


def serve_and_time(data_dir: Path, rounds: int, log: Path) -> dict:
    port = free_port()
    proc = start_server(data_dir, port, 1, log=log, timeout=600)
    try:
        base = f"http://127.0.0.1:{port}/api/papers/search?"

        def ask(query: str) -> float:
            url = base + urllib.parse.urlencode({"q": query})
            started = time.perf_counter()
            with urllib.request.urlopen(url, timeout=60) as answer:
                body = answer.read()
            elapsed = (time.perf_counter() - started) * 1000
            if not json.loads(body):
                raise SystemExit(f"no hits for {query!r}")
            return elapsed

        for query in QUERIES:  # warm-up: pages of the files the queries touch
            ask(query)
        times = sorted(ask(q) for _ in range(rounds) for q in QUERIES)
        return {
            "p50": statistics.median(times),
            "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            "rss": tree_rss_mib(proc.pid),
            "n": len(times),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def keyword_breakdown(data_dir: Path, rounds: int, write: bool) -> None:
    """Where the keyword side's time goes on a built data folder (`--keyword-breakdown`,
    after a run with `--work`), for the 40 queries of bench/search_latency.py:
    - as served: `KeywordIndex.search`, top 100 (BM25 over every matching paper with bare term
      queries; a large query with compounds or broad filters first ranks a cheaper reading
      that bounds it and scores only its best exactly; then proximity re-ranks the best
      RERANK_DEPTH; ids read);
    - the same with every match ranked and counted (no estimate, so none of those bounds:
      as served before them; tantivy cannot skip papers anyway, tantivy-py always collects
      through a MultiCollector);
    - the one query served before 2026-12-02: the words through the query parser plus the
      proximity clauses, which tantivy evaluated on every paper holding a query word;
    and how many papers the plain-word queries match."""
    import tantivy

    import paperboy.search.files.keyword as keyword_module
    from paperboy.config import Settings
    from paperboy.search.files.keyword import SHORT_QUERY_WORDS
    from paperboy.search.query import has_constraints, parse_query
    from paperboy.search.upkeep import open_indexes
    from paperboy.store import open_store

    settings = Settings.load(data_dir=data_dir)
    store = open_store(settings)
    index = open_indexes(store, settings).keyword
    searcher = index.index.searcher()
    papers = index.count()
    parsed = {query: parse_query(query) for query in QUERIES}

    def served(query: str) -> None:
        index.search(parsed[query], limit=100)

    def counted(query: str) -> None:
        exact = keyword_module.EXACT_COUNT_UP_TO
        keyword_module.EXACT_COUNT_UP_TO = 10**12
        try:
            index.search(parsed[query], limit=100)
        finally:
            keyword_module.EXACT_COUNT_UP_TO = exact

    def one_query(query: str) -> None:
        q = parsed[query]
        words = " ".join(f'"{w}"' for w in q.words)
        # The parser's reading of plain words: one boolean per word.
        plain = words and not has_constraints(q)
        built = index._parse(words, conjunction=False) if plain else index.build_query(q)
        if built is None:
            return
        if words and len(q.words) <= SHORT_QUERY_WORDS:
            near = [(tantivy.Occur.Should, c) for c in index._proximity(q.words)]
            built = tantivy.Query.boolean_query([(tantivy.Occur.Must, built)] + near)
        searcher.search(built, limit=100, count=True)

    matched, ratios = [], []
    for query in QUERIES[:25]:  # words and compounds (the rest hold operators)
        built = index.build_query(parsed[query])
        count = searcher.search(built, limit=1, count=True).count
        matched.append(count / papers)
        estimate = index._estimated_matches(searcher, parsed[query])
        if estimate is not None:
            ratios.append(estimate / count)
    for query in QUERIES:  # warm
        served(query), counted(query), one_query(query)
    rows = [
        (
            "as served: BM25 (compounds and broad filters bounded first), proximity re-ranks "
            "the top 100",
            timed(served, rounds, True),
        ),
        (
            "every match ranked and counted (no bounded first pass, no estimated total)",
            timed(counted, rounds, True),
        ),
        (
            "one query, proximity on every match (served before 2026-12-02)",
            timed(one_query, rounds, True),
        ),
    ]
    table = "\n".join(
        f"| {label} | {t[0]:.1f} / {t[1]:.1f} | {t[3][0][0]!r} {t[3][0][1]:.0f} ms |"
        for label, t in rows
    )
    body = f"""Command: `nice .venv/bin/python bench/arxiv_scale.py --work FOLDER --keyword-breakdown --write`
(after a run of the same script with `--work FOLDER`), over its {papers:,} papers. Load average
{load_average()}. One process, one query at a time, {len(QUERIES)} queries x {rounds}.

| keyword search (tantivy) | p50 / p99 ms | slowest query |
|---|---|---|
{table}

The first 25 queries (words and compounds, no operators) match {statistics.median(matched):.0%} of the papers (median;
{min(matched):.0%} to {max(matched):.0%}). {len(ratios)} of them have their total estimated
(over {keyword_module.EXACT_COUNT_UP_TO:,} matches): the estimate is
{min(ratios, default=0):.2f} to {max(ratios, default=0):.2f} times the true count (median
{statistics.median(ratios or [0]):.2f}). Proximity clauses are phrase queries that read word
positions; in the one query tantivy evaluated them on every matching paper. BM25 itself
scores every matching paper, counted or not: tantivy-py collects through a MultiCollector,
so block-max WAND never skips any.
"""
    print(body)
    if write:
        write_section(
            f"arxiv_scale_keyword_{papers}",
            f"Keyword search at {papers:,} papers: where the time goes (`bench/arxiv_scale.py`)",
            body,
        )


def latency(work: Path, rounds: int, write: bool) -> None:
    """Hybrid search timed again on a built data folder (`--latency`, after a run with
    `--work`): through `paperboy serve` as the full run times it, and inside one process,
    `search()` with the nearest papers looked up beside the keyword search and one after
    the other (engine.SEARCH_AT_ONCE_FROM), interleaved query by query."""
    import paperboy.search.engine as engine_module
    from paperboy.config import Settings
    from paperboy.search import open_search
    from paperboy.store import open_store

    load_before = load_average()
    served = serve_and_time(work / "data", rounds, work / "serve.log")
    print(f"serve: {served}", flush=True)
    settings = Settings.load(data_dir=work / "data")
    engine = open_search(open_store(settings), settings)
    engine.warm()
    papers = engine.indexes.keyword.count()
    ways = {"beside": engine_module.SEARCH_AT_ONCE_FROM, "after": 10**12}
    times: dict[str, list[float]] = {way: [] for way in ways}
    for round_ in range(rounds + 1):  # the first round only warms up
        for query in QUERIES:
            for way in ways if round_ % 2 else reversed(list(ways)):
                engine_module.SEARCH_AT_ONCE_FROM = ways[way]
                started = time.perf_counter()
                engine.search(query)
                if round_:
                    times[way].append((time.perf_counter() - started) * 1000)
    engine_module.SEARCH_AT_ONCE_FROM = ways["beside"]
    quantiles = {
        way: (statistics.median(t), sorted(t)[min(len(t) - 1, int(len(t) * 0.99))])
        for way, t in times.items()
    }
    print(quantiles, flush=True)
    body = f"""Command: `nice .venv/bin/python bench/arxiv_scale.py --work FOLDER --latency --write`
(after a run of the same script with `--work FOLDER`), over its {papers:,} papers; the import
figures are in the section above. Load average before and after:
{load_before}; {load_average()}.

| hybrid search | p50 / p99 ms |
|---|---|
| through `/api/papers/search` (`paperboy serve --workers 1`, at the client, as above) | **{served["p50"]:.1f} / {served["p99"]:.1f}** ({served["n"]} queries) |
| `search()` in one process, nearest papers looked up beside the keyword search (served) | {quantiles["beside"][0]:.1f} / {quantiles["beside"][1]:.1f} |
| `search()` in one process, one side after the other (as before 2026-12-02 afternoon) | {quantiles["after"][0]:.1f} / {quantiles["after"][1]:.1f} |

Serving RSS after the queries: {served["rss"]:,.0f} MiB. The 40 queries of
bench/search_latency.py, one warm-up pass then {rounds} rounds; in one process the two ways
alternate query by query, so both see the same machine.
"""
    print(body)
    if write:
        write_section(
            f"arxiv_scale_latency_{papers}",
            f"Hybrid search at {papers:,} papers, timed again (`bench/arxiv_scale.py --latency`)",
            body,
        )


def graph_recall(data_dir: Path, write: bool) -> None:
    """How many of the true nearest papers the HNSW graph finds at this size, for the
    static vectors of the 40 queries of bench/search_latency.py (`--graph-recall`, after a
    run with `--work`): exact search over every stored vector against the graph at several
    search expansions (the one served is the graph's own)."""
    import numpy as np

    from paperboy.config import Settings
    from paperboy.search import open_search
    from paperboy.store import open_store

    settings = Settings.load(data_dir=data_dir)
    engine = open_search(open_store(settings), settings)
    engine.search("warm up")  # loads the graph
    bulk = engine.indexes.bulk
    graph = bulk._graph
    queries = np.stack([engine.query_vector(bulk.model, q) for q in QUERIES]).astype(np.float32)
    sims = np.empty((len(queries), len(bulk.ids)), np.float32)
    for start in range(0, len(bulk.ids), 200_000):  # exact, a block of float32 rows at a time
        rows = slice(start, start + 200_000)
        sims[:, rows] = queries @ (bulk.codes[rows].astype(np.float32) * bulk.scales[rows, None]).T
    exact = np.argsort(-sims, axis=1)[:, :100]
    served = graph.expansion_search
    lines = []
    for expansion in sorted({200, 350, 500, 700, served}):
        graph.expansion_search = expansion
        at10, at100, times = [], [], []
        for query, truth in zip(queries, exact):
            started = time.perf_counter()
            keys = graph.search(query, 100).keys.tolist()
            times.append((time.perf_counter() - started) * 1000)
            at10.append(len(set(keys[:10]) & set(truth[:10].tolist())) / 10)
            at100.append(len(set(keys) & set(truth.tolist())) / 100)
        mark = " (served)" if expansion == served else ""
        lines.append(
            f"| {expansion}{mark} | {statistics.mean(at10):.3f} | {statistics.mean(at100):.3f} "
            f"| {statistics.median(times):.1f} ms |"
        )
        print(lines[-1], flush=True)
    graph.expansion_search = served
    body = f"""Command: `nice .venv/bin/python bench/arxiv_scale.py --work FOLDER --graph-recall --write`
(after a run of the same script with `--work FOLDER`): {len(bulk):,} static vectors, a graph of
{graph.connectivity} links a node, the 40 queries of bench/search_latency.py encoded as search
encodes them, against exact search over every vector. Load average {load_average()}.

| expansion searching | recall@10 | recall@100 | graph search p50 (k = 100) |
|---|---|---|---|
{chr(10).join(lines)}
"""
    print(body)
    if write:
        write_section(
            f"arxiv_scale_graph_{len(bulk)}",
            f"HNSW recall at {len(bulk):,} papers (`bench/arxiv_scale.py --graph-recall`)",
            body,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DATA / "arxiv_cs_listings.jsonl.gz")
    parser.add_argument("--head", type=Path, default=DATA / "arxiv_oai_snapshot_head200.jsonl")
    parser.add_argument("--total", type=int, default=2_700_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, help="folder for the corpus and the data (kept)")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument(
        "--keyword-breakdown",
        action="store_true",
        help="only time the keyword side of the data folder a run with --work left",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="only time hybrid search again on the data folder a run with --work left",
    )
    parser.add_argument(
        "--graph-recall",
        action="store_true",
        help="only measure the HNSW graph's recall on the data folder a run with --work left",
    )
    args = parser.parse_args()
    if args.keyword_breakdown or args.graph_recall or args.latency:
        if not args.work or not (args.work / "data").exists():
            sys.exit(
                "--keyword-breakdown, --graph-recall and --latency need --work FOLDER "
                "(a finished run)"
            )
        if args.latency:
            latency(args.work, args.rounds, args.write)
        if args.keyword_breakdown:
            keyword_breakdown(args.work / "data", args.rounds, args.write)
        if args.graph_recall:
            graph_recall(args.work / "data", args.write)
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="paperboy-arxiv-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus, data_dir = work / "arxiv-metadata-oai-snapshot.jsonl.gz", work / "data"
    load_before = load_average()
    started = time.perf_counter()
    counts = write_corpus(args.corpus, args.head, args.total, corpus)
    made_s = time.perf_counter() - started
    print(
        f"corpus: {counts} in {made_s:.0f} s, {corpus.stat().st_size / 2**20:.0f} MiB", flush=True
    )

    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir()
    seconds, stored_at, samples = run_import(data_dir, corpus, work / "import.log")
    print((work / "import.log").read_text()[-1500:])
    peak = max(rss for _, rss in samples)
    marks = {
        pct: next((rss for t, rss in samples if t >= seconds * pct / 100), samples[-1][1])
        for pct in (10, 25, 50, 75, 95)
    }
    print(f"import + index: {seconds:.0f} s; importer RSS peak {peak:.0f} MiB; {marks}", flush=True)
    load_mid = load_average()

    served = serve_and_time(data_dir, args.rounds, work / "serve.log")
    print(f"serve: {served}", flush=True)
    sizes = {
        "store": sum(f.stat().st_size for f in data_dir.glob("paperboy.sqlite3*")) / 2**20,
        "all": folder_mib(data_dir),
    }
    papers = sum(counts.values())
    body = f"""Load average (1 / 5 / 15 min) before the import, after it, and at the end:
{load_before}; {load_mid}; {load_average()}.

Command: `nice .venv/bin/python bench/arxiv_scale.py --corpus DATA/corpora/arxiv_cs_listings.jsonl.gz --head DATA/corpora/arxiv_oai_snapshot_head200.jsonl --total {args.total} --write`

{papers:,} papers in the arXiv metadata snapshot's own format (one gzip JSON-lines file,
{corpus.stat().st_size / 2**20:,.0f} MiB): the {counts["snapshot"]} real lines of the snapshot's
head, the {counts["listings"]:,} real arXiv cs listings rewritten into the snapshot format, and
{counts["generated"]:,} generated lines (title, authors and date of a real paper, 5 to 9 shuffled
sentences of other real abstracts, a fresh id). Store SQLite, search on index files (the
defaults), `paperboy import FILE` then `paperboy serve --workers 1`.

| figure | value | target |
|---|---|---|
| `paperboy import`: store + keyword index + static vectors + HNSW graph | **{seconds / 60:.1f} min** ({papers / seconds:,.0f} papers/s) | ≤ 45 min |
| of which storing every paper (parse, check, write; the indexes follow alongside) | {f"{stored_at / 60:.1f} min" if stored_at else "not seen"} | |
| importer memory (RSS) at 10 / 25 / 50 / 75 / 95 % of the run | {" / ".join(f"{marks[p]:,.0f}" for p in (10, 25, 50, 75, 95))} MiB (peak {peak:,.0f}) | flat |
| serving process RSS after the queries | **{served["rss"]:,.0f} MiB** | ≤ 4,096 MiB |
| hybrid search through `/api/papers/search`, p50 / p99 | **{served["p50"]:.1f} / {served["p99"]:.1f} ms** ({served["n"]} queries) | ≤ 20 / ≤ 60 ms |
| on disk: store / everything | {sizes["store"]:,.0f} / {sizes["all"]:,.0f} MiB | |

Latency is timed at the client over loopback HTTP (JSON of 20 hits with highlights), one warm-up
pass over the 40 queries of bench/search_latency.py then {args.rounds} rounds, one request at a
time. The machine is shared; see the load averages.
"""
    print(body)
    if args.write:
        write_section(
            f"arxiv_scale_{args.total}",
            f"All of arXiv on one box: {papers:,} papers (`bench/arxiv_scale.py`)",
            body,
        )
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
