"""Tune the keyword side's query reading: compound and proximity boosts, on development data.

    .venv/bin/pip install -e '.[bench]'
    nice .venv/bin/python bench/keyword_tuning.py --beir ../shared/data/bench/scifact --split train \
        --short bench/short_queries [--write]

Builds only the keyword index (no vectors) of each collection in a real store, and ranks every
judged query through `parse_query` (the product's own reading: pasted claims as plain words,
typed queries with their operators and compounds), with the proximity and compound boosts set
to each value of a small grid. Prints nDCG@10 and Recall@100 per setting; the defaults in
`search/keyword.py` were picked here. With --write the grid goes into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import load_average, machine, write_section
from search_quality import evaluate, load_beir, load_short_queries

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.search.files import keyword
from paperboy.search.files.keyword import KeywordIndex
from paperboy.search.query import parse_query
from paperboy.store import open_store

# Each grid varies its own names; every other setting keeps the value search/files/keyword.py
# ships. The first picked the boosts; the second how deep proximity re-ranks (a second pass
# over BM25's best, since 2026-12-02; the one query scored every matching paper before).
GRIDS = [
    {
        "SHORT_QUERY_WORDS": (0, 6),
        "PROXIMITY_BOOST": (0.0, 0.25, 0.5, 1.0),
        "COMPOUND_BOOST": (0.0, 1.0, 2.0),
        "PROXIMITY_SLOP": (2,),
    },
    {"RERANK_DEPTH": (30, 100, 300, 1000)},
]
NAMES = list(dict.fromkeys(name for grid in GRIDS for name in grid))


def keyword_index(folder: Path, corpus) -> KeywordIndex:
    settings = Settings.load(data_dir=folder)
    store = open_store(settings)
    papers = [
        Paper(id=str(d["_id"]), title=d.get("title") or "", abstract=d.get("text") or "")
        for d in corpus
    ]
    for start in range(0, len(papers), 2000):
        store.upsert(papers[start : start + 2000])
    store.close()
    index = KeywordIndex(folder / "keyword")
    index.add(papers)
    index.commit()
    return index


def score(index: KeywordIndex, queries, qrels, judged=None) -> dict[str, float]:
    run = {}
    for qid in qrels:
        found, _ = index.search(parse_query(queries[qid]), limit=1000 if judged else 100)
        run[qid] = {pid: float(s) for pid, s in found} or {"-": 0.0}
    return evaluate(qrels, run, judged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", type=Path, required=True, help="a BEIR-layout folder")
    parser.add_argument("--split", default="train")
    parser.add_argument("--short", type=Path, help="bench/short_queries (queries + qrels.tsv)")
    parser.add_argument(
        "--corpus",
        type=Path,
        help="the corpus the short queries judge "
        "(../shared/data/corpora/arxiv_cs_listings.jsonl.gz)",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    sets = [(f"{args.beir.name} {args.split}", *load_beir(args.beir, args.split), None)]
    if args.short:
        sets.append(("short queries (judged only)", *load_short_queries(args.short, args.corpus)))
    defaults = {name: getattr(keyword, name) for name in NAMES}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, corpus, queries, qrels, judged in sets:
            qrels = {q: r for q, r in qrels.items() if q in queries}
            index = keyword_index(Path(tmp) / label.replace(" ", "_"), corpus)
            for grid in GRIDS:
                for values in itertools.product(*grid.values()):
                    setting = defaults | dict(zip(grid, values, strict=True))
                    for name, value in setting.items():
                        setattr(keyword, name, value)
                    got = score(index, queries, qrels, judged)
                    rows.append((label, setting, got))
                    print(
                        f"{label}: {setting} nDCG@10 "
                        f"{got['ndcg@10']:.4f} Recall@100 {got['recall@100']:.4f}",
                        flush=True,
                    )
    if args.write:
        lines = [
            f"`nice .venv/bin/python bench/keyword_tuning.py --beir {args.beir} --split "
            f"{args.split}{' --short ' + str(args.short) if args.short else ''} --write`",
            "",
            f"{machine()}, {date.today().isoformat()}, load {load_average()}. "
            "Keyword side alone (tantivy BM25), queries read by `parse_query`.",
            "",
            "| set | " + " | ".join(NAMES) + " | nDCG@10 | Recall@100 |",
            "|---|" + "---|" * (len(NAMES) + 2),
        ]
        lines += [
            f"| {label} | "
            + " | ".join(str(setting[name]) for name in NAMES)
            + f" | {got['ndcg@10']:.4f} | {got['recall@100']:.4f} |"
            for label, setting, got in rows
        ]
        write_section(
            "keyword_tuning", "Keyword query reading (`bench/keyword_tuning.py`)", "\n".join(lines)
        )


if __name__ == "__main__":
    main()
