"""Search speed and size on real papers: index build rate, disk, memory, query latency.

    nice .venv/bin/python bench/search_latency.py \
        --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz --write
    nice .venv/bin/python bench/search_latency.py --corpus ... --total 1000000 --write

Steps, all through paperboy's own code: import the corpus into a fresh store (`import_file`),
bring the indexes up to it (`update_indexes`: keyword + static vectors for a bulk import),
then time `search()` (hybrid, end to end: parse, rank, fetch, highlight) and `rank()` for
keyword and semantic alone over QUERIES, after one warm-up pass. Memory is the serving
process's resident set after the queries.

The transformer path ("all papers have transformer vectors") is timed with a vector index of
the same shape filled with random unit vectors: exact search time does not depend on what the
vectors hold, and encoding 75k abstracts with the transformer takes over an hour here.
`--total N` adds generated papers up to N: each takes the title of one real paper and a
shuffled mix of sentences from other real abstracts, with a fresh id (30MM.NNNNN).
"""

from __future__ import annotations

import argparse
import gzip
import json
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

from report import machine, write_section

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.search.engine import HybridSearch
from paperboy.search.index import SearchIndexes, passage_id
from paperboy.search.query import parse_query
from paperboy.store import open_store

QUERIES = [
    "causal self-attention for vision", "diffusion models for video generation",
    "retrieval augmented generation hallucination", "mixture of experts routing",
    "reinforcement learning from human feedback", "graph neural networks for molecules",
    "speculative decoding", "vision language models benchmark", "low-rank adaptation fine-tuning",
    "federated learning privacy", "large language model agents tool use", "3D gaussian splatting",
    "text-to-speech zero-shot", "code generation evaluation", "quantization of llms 4-bit",
    "long context transformers", "chain of thought reasoning math", "autonomous driving planning",
    "medical image segmentation", "contrastive learning representations",
    "adversarial robustness certified", "knowledge distillation small models",
    "neural radiance fields", "time series forecasting transformer", "multi-agent reinforcement",
    "sparse attention efficient inference", "protein structure prediction",
    "prompt injection attacks", "embodied robot manipulation", "state space models mamba",
    '"in-context learning"', "author:bengio", "cat:cs.CL instruction tuning",
    "has:code object detection", "year:2025 world models", "-survey diffusion",
    "semantic segmentation after:2026-01-01", "video understanding long",
    "continual learning catastrophic forgetting", "speech recognition low resource",
]


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


def timed(fn, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            fn(query)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def fill_synthetic_dense(indexes: SearchIndexes, ids: list[str]) -> None:
    """Random unit vectors of the transformer's shape for every paper, and 3 passages each."""
    rng = np.random.default_rng(0)
    dense = indexes.dense

    def random_unit(rows):
        vectors = rng.normal(size=(rows, dense.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    for start in range(0, len(ids), 50_000):
        part = ids[start:start + 50_000]
        dense.put(part, random_unit(len(part)))
        if indexes.passages is not None:
            keys = [passage_id(pid, k) for pid in part for k in range(3)]
            indexes.passages.put(keys, random_unit(len(keys)))
    if indexes.passages is not None:
        indexes.passages.save()


def serve_and_measure(data_dir: Path, rounds: int) -> dict:
    """Open the indexes in a fresh process, as a server would, and time the queries there."""
    out = subprocess.run([sys.executable, __file__, "--serve", str(data_dir), "--rounds",
                          str(rounds)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def serve(data_dir: Path, rounds: int) -> None:
    settings = Settings.load(data_dir=data_dir)
    store = open_store(settings)
    engine = HybridSearch(store, settings, SearchIndexes(settings))
    lat = latencies(engine, rounds)
    print(json.dumps({"latency": lat, "rss_mib": rss_mib(),
                      "graph": engine.indexes.dense.uses_graph or (
                          engine.indexes.bulk is not None and engine.indexes.bulk.uses_graph)}))


def latencies(engine: HybridSearch, rounds: int) -> dict[str, tuple[float, float]]:
    for query in QUERIES:  # warm-up: models loaded, caches filled, graph built
        engine.search(query)
    return {
        "keyword": timed(lambda q: engine.rank(parse_query(q), mode="keyword"), rounds),
        "semantic": timed(lambda q: engine.rank(parse_query(q), mode="semantic"), rounds),
        "hybrid": timed(lambda q: engine.search(q, limit=20), rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--total", type=int, default=0, help="add generated papers up to N")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, help="keep the store and indexes here")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the measuring child
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.rounds)
    tmp = tempfile.TemporaryDirectory()
    data_dir = args.data_dir or Path(tmp.name)
    corpus, generated = args.corpus, 0
    if args.total:
        corpus = Path(tmp.name) / "corpus.jsonl.gz"
        generated = generate(args.corpus, args.total, corpus)
    settings = Settings.load(data_dir=data_dir)
    store = open_store(settings)

    started = time.monotonic()
    import_file(store, corpus, settings, show_progress=False)
    import_seconds = time.monotonic() - started
    count = store.count_papers()
    print(f"imported {count:,} papers in {import_seconds:.0f}s", flush=True)

    indexes = SearchIndexes(settings)
    from paperboy.search.index import UpdateReport

    report = UpdateReport()
    started = time.monotonic()
    indexes._update_keyword(store, report, progress=False)
    keyword_seconds = time.monotonic() - started
    started = time.monotonic()
    indexes._update_vectors(store, report, progress=False)
    vector_seconds = time.monotonic() - started
    print(f"keyword index {keyword_seconds:.0f}s, static vectors {vector_seconds:.0f}s", flush=True)
    sizes = {
        "store (SQLite)": settings.sqlite_path.stat().st_size / 2**20,
        "keyword index": folder_mib(indexes.keyword.path),
        "static vectors": folder_mib(indexes.bulk.folder),
    }

    first = serve_and_measure(data_dir, args.rounds)
    rows = [("static vectors (after a bulk import)", first["latency"], first["rss_mib"])]
    if first["graph"]:
        sizes["static HNSW graph"] = (indexes.bulk.folder / "graph.usearch").stat().st_size \
            / 2**20
    print(rows[-1], flush=True)

    started = time.monotonic()
    fill_synthetic_dense(indexes, store.all_paper_ids())
    indexes.dense.save(watermark=store.max_seq())
    print(f"synthetic transformer vectors written in {time.monotonic() - started:.0f}s")
    sizes["transformer vectors (int8, 384-d)"] = folder_mib(indexes.dense.folder)
    if indexes.passages is not None:
        sizes["passages (3 a paper)"] = folder_mib(indexes.passages.folder)
    second = serve_and_measure(data_dir, args.rounds)
    rows.append(("transformer vectors for all papers", second["latency"], second["rss_mib"]))
    print(rows[-1], flush=True)
    uses_graph = second["graph"]

    if args.write:
        n = f"{count:,}"
        what = (f"{n} papers ({count - generated:,} real arXiv cs listings + {generated:,} "
                f"generated)" if generated else f"{n} real arXiv cs papers")
        lines = [
            f"`nice .venv/bin/python bench/search_latency.py --corpus {args.corpus}"
            f"{f' --total {args.total}' if args.total else ''} --write`", "",
            f"{machine()}, {date.today().isoformat()}; {what}. Other work shared the 2 cores.",
            "",
            f"- import into the store: {import_seconds:.0f} s ({count / import_seconds:,.0f} papers/s)",
            f"- keyword index: {keyword_seconds:.0f} s ({count / keyword_seconds:,.0f} papers/s)",
            f"- static vectors: {vector_seconds:.0f} s ({count / vector_seconds:,.0f} papers/s)",
            "- on disk: " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in sizes.items()),
            f"- vector search: {'HNSW graph' if uses_graph else 'exact'} "
            f"(exact up to {settings.search_exact_limit:,} rows)",
            "",
            "| vectors | keyword p50/p99 ms | semantic p50/p99 ms | hybrid p50/p99 ms | RSS MiB |",
            "|---|---|---|---|---|",
        ]
        for label, lat, rss in rows:
            cells = " | ".join(f"{lat[m][0]:.1f} / {lat[m][1]:.1f}"
                               for m in ("keyword", "semantic", "hybrid"))
            lines.append(f"| {label} | {cells} | {rss:,.0f} |")
        lines += ["", f"Latency over {len(QUERIES)} queries x {args.rounds} rounds. Semantic "
                  "includes encoding the query; hybrid is `search()` end to end (20 hits with "
                  "highlights). Transformer row: random vectors of the real shape (see the script)."]
        write_section(f"Search speed and size at {n} papers", "\n".join(lines))
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
