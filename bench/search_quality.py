"""Search quality on a BEIR-layout collection: nDCG@10 and Recall@100, per component and fused.

    .venv/bin/pip install -e '.[bench]'
    nice .venv/bin/python bench/search_quality.py --beir ../shared/data/bench/scifact --split train

DIR holds `corpus.jsonl`, `queries.jsonl` and `qrels/NAME.tsv` (any BEIR collection works
unchanged). The script loads the corpus into a real paperboy store, builds the real indexes
(update_indexes) and ranks every judged query with the engine's own `rank()`: keyword alone
(BM25), semantic alone, and hybrid, for the transformer (`minilm`) and the static model.
Queries are taken as plain words (BEIR claims are not written in our query syntax). Metrics
come from pytrec_eval (trec_eval's own code). The vector folders are cached in bench/.cache/
so a rerun does not encode the corpus again. With --write, figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import machine, write_section

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.search.engine import HybridSearch
from paperboy.search.fusion import TUNED_KEYWORD_WEIGHTS, reciprocal_rank_fusion
from paperboy.search.index import SearchIndexes, paper_text
from paperboy.search.query import ParsedQuery
from paperboy.store import open_store

CACHE = ROOT / "bench" / ".cache"


def load_beir(folder: Path, split: str):
    corpus = [json.loads(line) for line in open(folder / "corpus.jsonl")]
    queries = {}
    for line in open(folder / "queries.jsonl"):
        row = json.loads(line)
        queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv") as fh:
        for number, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if number == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return corpus, queries, qrels


def load_short_queries(folder: Path, corpus_path: Path):
    """bench/short_queries (queries.jsonl, qrels.tsv, judged_pool.jsonl) over the arXiv cs
    listings corpus, in load_beir's shapes (corpus rows with _id/title/text, queries, graded
    qrels) plus the papers judged for each query (see `evaluate`)."""
    import gzip

    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        corpus = [{"_id": row["id"], "title": row.get("title") or "",
                   "text": row.get("summary") or ""} for row in map(json.loads, lines)]
    queries = {str(row["_id"]): row["text"]
               for row in map(json.loads, open(folder / "queries.jsonl"))}
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels.tsv") as fh:
        next(fh)  # header
        for line in fh:
            qid, pid, grade = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, {})[pid] = int(grade)
    judged: dict[str, set[str]] = {}
    for row in map(json.loads, open(folder / "judged_pool.jsonl")):
        judged.setdefault(row["query-id"], set()).add(row["corpus-id"])
    return corpus, queries, qrels, judged


def plain_query(text: str) -> ParsedQuery:
    return ParsedQuery(raw=text, words=text.split())


def evaluate(qrels, run, judged: dict[str, set[str]] | None = None) -> dict[str, float]:
    """nDCG@10 and Recall@100 by pytrec_eval. With `judged` (the papers judged per query, for
    a set whose judgements are incomplete), unjudged papers are dropped from each ranking
    first (a "condensed list"), so a ranking is not punished for papers nobody judged."""
    import pytrec_eval

    if judged is not None:
        run = {qid: {pid: s for pid, s in ranked.items() if pid in judged.get(qid, ())}
                    or {"-": 0.0} for qid, ranked in run.items()}

    scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    return {"ndcg@10": statistics.mean(s["ndcg_cut_10"] for s in scores.values()),
            "recall@100": statistics.mean(s["recall_100"] for s in scores.values())}


def restore_or_encode(indexes: SearchIndexes, store, papers: list[Paper], tag: str) -> float:
    """Bring the indexes up to the store, reusing vectors cached by an earlier run (the same
    texts and model) so the corpus is encoded once; seconds spent encoding."""
    texts = "\n".join(paper_text(p) for p in papers)
    key = hashlib.sha1((texts + indexes.settings.search_model).encode()).hexdigest()[:16]
    cached = CACHE / f"{tag}-{indexes.settings.search_model}-{key}"
    vectors_dir = indexes.folder / "vectors"
    if cached.exists():
        shutil.rmtree(vectors_dir, ignore_errors=True)
        shutil.copytree(cached, vectors_dir)
        indexes = SearchIndexes(indexes.settings)
    started = time.monotonic()
    indexes.update(store)
    seconds = time.monotonic() - started
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        shutil.copytree(vectors_dir, cached)
    return indexes, seconds


def run_modes(engine: HybridSearch, queries, qrels, modes, k: int = 100):
    runs = {}
    for mode in modes:
        run = {}
        for qid in qrels:
            ranking = engine.rank(plain_query(queries[qid]), k=k, mode=mode)
            run[qid] = {pid: float(score) for pid, score in ranking.ranked[:k]}
        runs[mode] = run
    return runs


def build(folder: Path, corpus, model: str, tag: str):
    settings = Settings.load(data_dir=folder, search_model=model, search_bulk_model="",
                             search_embed_limit=10**9)
    store = open_store(settings)
    papers = [Paper(id=str(d["_id"]), title=d.get("title") or "", abstract=d.get("text") or "")
              for d in corpus]
    for start in range(0, len(papers), 2000):
        store.upsert(papers[start:start + 2000])
    indexes, seconds = restore_or_encode(SearchIndexes(settings), store, papers, tag)
    return HybridSearch(store, settings, indexes), settings, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", required=True, type=Path, help="a BEIR-layout folder")
    parser.add_argument("--split", default="test", help="qrels/NAME.tsv to evaluate")
    parser.add_argument("--models", default="minilm,static",
                        help="embedding models to evaluate (comma-separated)")
    parser.add_argument("--sweep", action="store_true",
                        help="also print hybrid nDCG@10 for keyword weights 0.1..0.7")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(args.beir, args.split)
    qrels = {q: r for q, r in qrels.items() if q in queries}
    tag = args.beir.name
    rows, sweep_lines = [], []
    for model in args.models.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            engine, settings, seconds = build(Path(tmp), corpus, model, tag)
            print(f"{model}: indexes built in {seconds:.0f}s (0 when the vectors were cached)",
                  flush=True)
            modes = ["keyword", "semantic", "hybrid"] if not rows else ["semantic", "hybrid"]
            runs = run_modes(engine, queries, qrels, modes)
            for mode in modes:
                scores = evaluate(qrels, runs[mode])
                label = "keyword (BM25, tantivy)" if mode == "keyword" else f"{mode} ({model})"
                rows.append((label, scores["ndcg@10"], scores["recall@100"]))
                print(f"{label:<32} nDCG@10 {scores['ndcg@10']:.4f}  "
                      f"Recall@100 {scores['recall@100']:.4f}", flush=True)
            if model == "minilm" and engine.indexes.passages is not None:
                # Ablations: the same indexes without passage re-scoring, and plain RRF.
                passages, engine.indexes.passages = engine.indexes.passages, None
                for mode in ("semantic", "hybrid"):
                    scores = evaluate(qrels, run_modes(engine, queries, qrels, [mode])[mode])
                    rows.append((f"{mode} ({model}), no passage re-scoring",
                                 scores["ndcg@10"], scores["recall@100"]))
                    print(rows[-1], flush=True)
                engine.indexes.passages = passages
                rrf = {qid: dict(reciprocal_rank_fusion(
                    list(runs["keyword"][qid]), list(runs["semantic"][qid]))[:100])
                    for qid in qrels}
                scores = evaluate(qrels, rrf)
                rows.append((f"reciprocal-rank fusion ({model}), for comparison",
                             scores["ndcg@10"], scores["recall@100"]))
                print(rows[-1], flush=True)
            if args.sweep:
                for weight in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
                    engine.settings = Settings.load(
                        data_dir=settings.data_dir, search_model=model, search_bulk_model="",
                        search_keyword_weight=str(weight))
                    ndcg = evaluate(qrels, run_modes(engine, queries, qrels, ["hybrid"])
                                    ["hybrid"])["ndcg@10"]
                    sweep_lines.append(f"| {model} | {weight} | {ndcg:.4f} |")
                    print(f"sweep {model} keyword_weight={weight}: nDCG@10 {ndcg:.4f}", flush=True)
    if args.write:
        lines = [
            f"`nice .venv/bin/python bench/search_quality.py --beir {args.beir} --split "
            f"{args.split}{' --sweep' if args.sweep else ''} --write`",
            "",
            f"{machine()}, {date.today().isoformat()}. Collection `{tag}`, split `{args.split}`: "
            f"{len(corpus):,} documents, {len(qrels):,} judged queries. Metrics by pytrec_eval. "
            f"Hybrid = weighted sum of min-max normalised BM25 and cosine over the top 100 of "
            f"each, keyword weight tuned per model ({TUNED_KEYWORD_WEIGHTS}).",
            "",
            "| ranking | nDCG@10 | Recall@100 |",
            "|---|---|---|",
        ] + [f"| {label} | {ndcg:.4f} | {recall:.4f} |" for label, ndcg, recall in rows]
        if sweep_lines:
            lines += ["", "Keyword-weight sweep (the default was picked here):", "",
                      "| model | keyword weight | hybrid nDCG@10 |", "|---|---|---|"] + sweep_lines
        write_section("search_quality", "Search quality (`bench/search_quality.py`)", "\n".join(lines))
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
