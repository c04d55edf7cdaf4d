"""Similar-papers quality, by a proxy: papers that name the same code repository.

    nice .venv/bin/python bench/similar_papers.py \
        --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz --distractors 5000 --write

The proxy: in the arXiv cs listings, some repositories are named by two or more papers (a
group's follow-ups, a benchmark and the papers built on it, a toolkit and its updates).
For each such paper we ask `similar(paper, 10)` and count how often another paper of the same
repository comes back (Recall@10, and MRR of the first one). The corpus is those papers plus
random other papers as distractors. Repository URLs are cut from every text first, so the
match has to come from what the papers are about, not from the shared link.

What it measures: whether the nearest neighbours of a paper are its relatives. It is a lower
bound (two papers of one toolkit can be about different things) and a small sample (the
listings name ~90 shared repositories); it compares models, not absolute quality.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import machine, write_section

from paperboy.config import Settings
from paperboy.papers import Paper, extract_code_url
from paperboy.search import engine as engine_module
from paperboy.search.engine import HybridSearch
from paperboy.search.files import FileIndexes as SearchIndexes
from paperboy.search.query import ParsedQuery
from paperboy.store import open_store

_URL = re.compile(r"https?://\S+|github\.com/\S+|gitlab\.com/\S+", re.IGNORECASE)


def load(corpus: Path, distractors: int, seed: int = 3):
    rows = [json.loads(line) for line in gzip.open(corpus, "rt")]
    groups = defaultdict(list)
    for row in rows:
        url = extract_code_url(row["summary"], row.get("comment"))
        if url:
            groups[url.lower()].append(row["id"])
    groups = {url: ids for url, ids in groups.items() if len(ids) >= 2}
    wanted = {pid for ids in groups.values() for pid in ids}
    others = [r for r in rows if r["id"] not in wanted]
    chosen = [r for r in rows if r["id"] in wanted] + random.Random(seed).sample(
        others, distractors
    )
    papers = [
        Paper(
            id=r["id"],
            title=_URL.sub(" ", r["title"]),
            abstract=_URL.sub(" ", r["summary"]),
            authors=r.get("authors") or [],
        )
        for r in chosen
    ]
    return papers, groups


def score(found_for, groups) -> tuple[float, float]:
    recalls, ranks = [], []
    for ids in groups.values():
        for pid in ids:
            relatives = set(ids) - {pid}
            found = found_for(pid)
            recalls.append(len(relatives & set(found)) / len(relatives))
            first = next((i for i, f in enumerate(found, 1) if f in relatives), None)
            ranks.append(1 / first if first else 0.0)
    return statistics.mean(recalls), statistics.mean(ranks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--distractors", type=int, default=5000)
    parser.add_argument("--models", default="minilm,static")
    parser.add_argument(
        "--weights",
        default="0,0.2,0.3,0.4,0.5",
        help="BM25 shares to try in similar() (the engine's default is marked)",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    papers, groups = load(args.corpus, args.distractors)
    n_queries = sum(len(ids) for ids in groups.values())
    print(f"{len(groups)} shared repositories, {n_queries} papers, corpus {len(papers):,}")
    rows = []
    for model in args.models.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.load(
                data_dir=tmp, search_model=model, search_bulk_model="", search_embed_limit=10**9
            )
            store = open_store(settings)
            store.upsert(papers)
            started = time.monotonic()
            indexes = SearchIndexes(settings)
            indexes.update(store)
            seconds = time.monotonic() - started
            engine = HybridSearch(store, settings, indexes)
            default = engine_module.SIMILAR_KEYWORD_WEIGHT
            for weight in sorted({float(w) for w in args.weights.split(",")} | {default}):
                engine_module.SIMILAR_KEYWORD_WEIGHT = weight
                recall, mrr = score(
                    lambda pid, e=engine: [h.paper.id for h in e.similar(pid, 10)], groups
                )
                mark = " (default)" if weight == default else ""
                rows.append(
                    (f"similar() with {model} vectors, BM25 share {weight}{mark}", recall, mrr)
                )
                print(rows[-1], f"(indexed in {seconds:.0f}s)", flush=True)
            engine_module.SIMILAR_KEYWORD_WEIGHT = default
            if not any(r[0].startswith("BM25") for r in rows):

                def by_title(pid, store=store, engine=engine):
                    paper = store.get(pid)
                    q = ParsedQuery(raw=paper.title, words=paper.title.split())
                    ranked = engine.rank(q, k=11, mode="keyword").ranked
                    return [p for p, _ in ranked if p != pid][:10]

                recall, mrr = score(by_title, groups)
                rows.append(("BM25 with the title as query (baseline)", recall, mrr))
                print(rows[-1], flush=True)
    if args.write:
        lines = [
            f"`nice .venv/bin/python bench/similar_papers.py --corpus {args.corpus} "
            f"--distractors {args.distractors} --write`",
            "",
            f"{machine()}, {date.today().isoformat()}. Proxy: papers naming the same code "
            f"repository are relatives ({len(groups)} repositories, {n_queries} papers, among "
            f"{len(papers):,} papers with {args.distractors:,} random distractors; URLs cut "
            "from the texts). See the script's docstring for what this measures.",
            "",
            "| method | Recall@10 | MRR@10 |",
            "|---|---|---|",
        ] + [f"| {label} | {recall:.3f} | {mrr:.3f} |" for label, recall, mrr in rows]
        write_section(
            "similar_papers", "Similar papers (`bench/similar_papers.py`)", "\n".join(lines)
        )
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
