"""The HNSW graph's parameters: build time, recall against exact search, and query time.

    nice .venv/bin/python bench/hnsw_params.py \
        --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz --total 150000 --write

The papers are those of bench/search_latency.py (the real listings, then generated ones up to
`--total`), encoded by the bundled static model, as a bulk import's vectors are. Each
(type, connectivity, expansion when adding, expansion when searching) row builds a usearch
graph of them all (search/files/vectors.py uses float16, 12, 40, 500) with one
thread, then asks it for
the 10 and 100 nearest papers of 300 random papers and compares with exact search (the paper
itself counts: it is in both answers). Query time is one query at a time, k = 100.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from report import load_average, write_section
from search_latency import generate

from paperboy.search.encoders import StaticEncoder

# (dtype, connectivity, expansion adding, expansion searching); the second row is paperboy's.
CONFIGS = [
    ("f16", 16, 128, 200),
    ("f16", 16, 64, 350),
    ("i8", 16, 64, 350),
    ("f16", 16, 32, 500),
    ("f16", 12, 40, 500),
    ("f16", 8, 64, 500),
    ("f16", 8, 32, 700),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "corpora" / "arxiv_cs_listings.jsonl.gz",
    )
    parser.add_argument("--total", type=int, default=150_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    import onnxruntime  # noqa: F401  (before usearch: see search/files/vectors.py)
    from usearch.index import Index

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl.gz"
        generate(args.corpus, args.total, path)
        texts = [
            f"{row['title']}. {row['summary']}" for row in map(json.loads, gzip.open(path, "rt"))
        ]
    model = StaticEncoder("static", ROOT / "src" / "paperboy" / "data" / "models" / "static")
    vectors = model.encode(texts).astype(np.float32)
    n = len(vectors)
    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(n, 300, replace=False)]
    order = np.argsort(-(queries @ vectors.T), axis=1)
    exact10, exact100 = order[:, :10], order[:, :100]
    load = load_average()
    rows = []
    for dtype, links, add, search in CONFIGS:
        graph = Index(
            ndim=vectors.shape[1],
            metric="cos",
            dtype=dtype,
            connectivity=links,
            expansion_add=add,
            expansion_search=search,
        )
        started = time.process_time()
        graph.add(np.arange(n, dtype=np.uint64), vectors, log=False, threads=1)
        build = time.process_time() - started
        found = graph.search(queries, 100).keys
        recall10 = np.mean([len(set(f[:10]) & set(e)) / 10 for f, e in zip(found, exact10)])
        recall100 = np.mean([len(set(f) & set(e)) / 100 for f, e in zip(found, exact100)])
        started = time.perf_counter()
        for query in queries:
            graph.search(query, 100)
        ms = (time.perf_counter() - started) / len(queries) * 1000
        rows.append((dtype, links, add, search, build, recall10, recall100, ms))
        print(rows[-1], flush=True)
    table = "\n".join(
        f"| {d} | {c} | {a} | {s} | {b:.1f} s ({n / b:,.0f} rows/s) | {r10:.4f} | {r100:.4f} "
        f"| {ms:.2f} ms |"
        for d, c, a, s, b, r10, r100, ms in rows
    )
    body = f"""Command: `nice .venv/bin/python bench/hnsw_params.py --corpus DATA/corpora/arxiv_cs_listings.jsonl.gz --total {args.total} --write`

{n:,} papers (74,728 real arXiv cs listings, the rest generated as in bench/search_latency.py),
static vectors (256-d), one usearch graph per row, built with one thread; 300 random papers as
queries against exact search. Load average {load}.

| type | connectivity | expansion adding | expansion searching | build (CPU) | recall@10 | recall@100 | query (k = 100) |
|---|---|---|---|---|---|---|---|
{table}

paperboy's graphs are float16, 12 links, expansion 40 when adding and 500 when searching
(from 2026-12-02, after this table; 16 / 64 / 350 earlier that day, and 16 / 128 / 200
before). The build paces a bulk import at 2.7M papers (bench/arxiv_scale.py): it took 58% of
the CPU of 16 / 64 / 350 here for recall@10 0.968 against 0.970. int8 vectors build faster
but find fewer of the true neighbours (their int8 mode assumes components near +-1).
"""
    print(body)
    if args.write:
        write_section("hnsw_params", "HNSW graph parameters (`bench/hnsw_params.py`)", body)


if __name__ == "__main__":
    main()
