"""Search quality on a BEIR-layout collection: nDCG@10 and Recall@100, per component and fused.

    .venv/bin/pip install -e '.[bench]'
    nice .venv/bin/python bench/search_quality.py --beir ../shared/data/bench/scifact --split train \
        --short bench/short_queries --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz

DIR holds `corpus.jsonl`, `queries.jsonl` and `qrels/NAME.tsv` (any BEIR collection works
unchanged). The script loads the corpus into a real paperboy store, builds the real indexes
(update_indexes) and ranks every judged query with the engine's own `rank()`: keyword alone
(BM25), semantic alone, and hybrid, for the transformer (`minilm`) and the static model.
Queries are read by the product's own `parse_query`, as a user's would be. With --short, the
same for the short-query set over the 74,728 arXiv cs papers (bench/short_queries); with
--pool-models, over the papers judged for them alone (minutes for the transformer). Metrics
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

from report import load_average, machine, write_section

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.search.encoders import model_fingerprint
from paperboy.search.engine import HybridSearch
from paperboy.search.files import FileIndexes as SearchIndexes
from paperboy.search.fusion import (
    LONG_QUERY_KEYWORD_WEIGHTS,
    LONG_QUERY_WORDS,
    TUNED_KEYWORD_WEIGHTS,
    query_words,
    reciprocal_rank_fusion,
)
from paperboy.search.query import ParsedQuery, parse_query
from paperboy.search.updater import paper_text
from paperboy.store import open_store

CACHE = ROOT / "bench" / ".cache"
SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # keyword weights tried with --sweep
LENGTHS = ((1, 2), (3, 3), (4, 10), (11, 14), (15, 999))  # query-length groups, in words


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
        corpus = [
            {"_id": row["id"], "title": row.get("title") or "", "text": row.get("summary") or ""}
            for row in map(json.loads, lines)
        ]
    queries = {
        str(row["_id"]): row["text"] for row in map(json.loads, open(folder / "queries.jsonl"))
    }
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
        run = {
            qid: {pid: s for pid, s in ranked.items() if pid in judged.get(qid, ())} or {"-": 0.0}
            for qid, ranked in run.items()
        }

    scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    return {
        "ndcg@10": statistics.mean(s["ndcg_cut_10"] for s in scores.values()),
        "recall@100": statistics.mean(s["recall_100"] for s in scores.values()),
    }


def restore_or_encode(indexes: SearchIndexes, store, papers: list[Paper], tag: str) -> float:
    """Bring the indexes up to the store, reusing vectors cached by an earlier run (the same
    texts and model) so the corpus is encoded once; seconds spent encoding."""
    texts = "\n".join(paper_text(p) for p in papers)
    # The model's fingerprint, not just its name: a retrained static model is another model.
    model = indexes.settings.search_model
    key = hashlib.sha1((texts + model_fingerprint(model)).encode()).hexdigest()[:16]
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
            ranking = engine.rank(parse_query(queries[qid]), k=k, mode=mode)
            run[qid] = {pid: float(score) for pid, score in ranking.ranked[:k]}
        runs[mode] = run
    return runs


def corpus_store(folder: Path, corpus, model: str):
    """A real store holding a BEIR-shaped corpus, with settings that encode every paper with
    `model` (no bulk model): the store, its settings and the papers."""
    settings = Settings.load(
        data_dir=folder, search_model=model, search_bulk_model="", search_embed_limit=10**9
    )
    store = open_store(settings)
    papers = [
        Paper(id=str(d["_id"]), title=d.get("title") or "", abstract=d.get("text") or "")
        for d in corpus
    ]
    for start in range(0, len(papers), 2000):
        store.upsert(papers[start : start + 2000])
    return store, settings, papers


def build(folder: Path, corpus, model: str, tag: str):
    store, settings, papers = corpus_store(folder, corpus, model)
    indexes, seconds = restore_or_encode(SearchIndexes(settings), store, papers, tag)
    return HybridSearch(store, settings, indexes), settings, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", required=True, type=Path, help="a BEIR-layout folder")
    parser.add_argument("--split", default="test", help="qrels/NAME.tsv to evaluate")
    parser.add_argument(
        "--models", default="minilm,static", help="embedding models to evaluate (comma-separated)"
    )
    parser.add_argument("--short", type=Path, help="also the short-query set (bench/short_queries)")
    parser.add_argument(
        "--corpus",
        type=Path,
        help="the corpus it judges: ../shared/data/corpora/arxiv_cs_listings.jsonl.gz",
    )
    parser.add_argument(
        "--short-models",
        default="static",
        help="models for the short-query set (the transformer needs hours for "
        "its 75k papers unless their vectors are cached)",
    )
    parser.add_argument(
        "--pool-models",
        default="",
        help="also the short queries over their judged pool alone (the papers anyone judged, "
        "about 3,800), with these models: the transformer takes minutes there",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also print hybrid nDCG@10 for keyword weights 0.1..0.7",
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(args.beir, args.split)
    documents = len(corpus)  # `corpus` is rebound per set below
    sets = [
        (
            f"{args.beir.name} {args.split}",
            args.beir.name,
            corpus,
            queries,
            qrels,
            None,
            args.models.split(","),
        )
    ]
    if args.short:
        short = load_short_queries(args.short, args.corpus)  # read once for both sets below
        sets.append(("short queries (judged only)", "short", *short, args.short_models.split(",")))
    if args.short and args.pool_models:
        short_corpus, short_queries, short_qrels, judged = short
        pool = set().union(*judged.values())
        sets.append(
            (
                f"short queries over their judged pool ({len(pool):,} papers)",
                "shortpool",
                [d for d in short_corpus if d["_id"] in pool],
                short_queries,
                short_qrels,
                judged,
                args.pool_models.split(","),
            )
        )
    rows, sweep_lines, length_lines = [], [], []
    for label, tag, corpus, queries, qrels, judged, models in sets:
        qrels = {q: r for q, r in qrels.items() if q in queries}
        keyword_done = False
        for model in models:
            with tempfile.TemporaryDirectory() as tmp:
                engine, settings, seconds = build(Path(tmp), corpus, model, tag)
                print(
                    f"{label}, {model}: indexes built in {seconds:.0f}s (0 when the vectors "
                    "were cached)",
                    flush=True,
                )
                modes = (
                    ["semantic", "hybrid"] if keyword_done else ["keyword", "semantic", "hybrid"]
                )
                keyword_done = True
                runs = run_modes(engine, queries, qrels, modes, k=1000 if judged else 100)
                for mode in modes:
                    scores = evaluate(qrels, runs[mode], judged)
                    name = "keyword (BM25, tantivy)" if mode == "keyword" else f"{mode} ({model})"
                    rows.append((label, name, scores["ndcg@10"], scores["recall@100"]))
                    print(
                        f"{label}: {name:<32} nDCG@10 {scores['ndcg@10']:.4f}  "
                        f"Recall@100 {scores['recall@100']:.4f}",
                        flush=True,
                    )
                if model == "minilm" and engine.indexes.passages is not None and not judged:
                    _ablations(engine, label, model, queries, qrels, rows)
                if args.sweep:
                    swept = {}
                    for weight in SWEEP:
                        engine.settings = settings._with({"search_keyword_weight": str(weight)})
                        swept[weight] = run_modes(
                            engine, queries, qrels, ["hybrid"], k=1000 if judged else 100
                        )["hybrid"]
                        ndcg = evaluate(qrels, swept[weight], judged)["ndcg@10"]
                        sweep_lines.append(f"| {label} | {model} | {weight} | {ndcg:.4f} |")
                        print(
                            f"sweep {label} {model} keyword_weight={weight}: nDCG@10 {ndcg:.4f}",
                            flush=True,
                        )
                    length_lines += _by_length(label, model, queries, qrels, judged, swept)
                    engine.settings = settings
    if args.write:
        command = (
            f"`nice .venv/bin/python bench/search_quality.py --beir {args.beir} --split "
            f"{args.split} --models {args.models}"
            + (
                f" --short {args.short} --corpus {args.corpus} --short-models {args.short_models}"
                if args.short
                else ""
            )
            + (f" --pool-models {args.pool_models}" if args.short and args.pool_models else "")
            + f"{' --sweep' if args.sweep else ''} --write`"
        )
        lines = [
            command,
            "",
            f"{machine()}, {date.today().isoformat()}, load {load_average()}. "
            f"Collection `{args.beir.name}`, split `{args.split}`: {documents:,} documents"
            + (
                ", and the short-query set over the 74,728 arXiv cs papers (nDCG@10 on judged "
                "papers only: its judgements are incomplete, see bench/short_queries/README.md)"
                if args.short
                else ""
            )
            + (
                "; the same queries over their judged pool alone rank among fewer, mostly "
                "relevant papers, so those figures compare settings, not sets"
                if args.short and args.pool_models
                else ""
            )
            + ". Queries are read by the product's own `parse_query`. Metrics by pytrec_eval. "
            "Hybrid = weighted sum of min-max normalised BM25 and cosine over the top 100 of "
            f"each, keyword weight tuned per model ({TUNED_KEYWORD_WEIGHTS}; for a query of "
            f"{LONG_QUERY_WORDS} words or more {LONG_QUERY_KEYWORD_WEIGHTS}).",
            "",
            "| set | ranking | nDCG@10 | Recall@100 |",
            "|---|---|---|---|",
        ] + [
            f"| {label} | {name} | {ndcg:.4f} | {recall:.4f} |"
            for label, name, ndcg, recall in rows
        ]
        if sweep_lines:
            lines += [
                "",
                "Keyword-weight sweep (the tuned weights were picked here):",
                "",
                "| set | model | keyword weight | hybrid nDCG@10 |",
                "|---|---|---|---|",
            ] + sweep_lines
        if length_lines:
            lines += [
                "",
                "The same sweep by the query's length in words (`fusion.query_words`), nDCG@10 "
                "of each group's queries; the best weight of each row in bold. The "
                "transformer's weight for queries of "
                f"{LONG_QUERY_WORDS} words or more ({LONG_QUERY_KEYWORD_WEIGHTS}) was picked "
                "here:",
                "",
                "| set | model | words | queries | " + " | ".join(str(w) for w in SWEEP) + " |",
                "|---|---|---|---|" + "---|" * len(SWEEP),
            ] + length_lines
        write_section(
            "search_quality", "Search quality (`bench/search_quality.py`)", "\n".join(lines)
        )
        print("wrote docs/benchmarks.md")


def _by_length(label, model, queries, qrels, judged, swept) -> list[str]:
    """Table rows: nDCG@10 of each query-length group at each swept weight."""
    lines = []
    words = {qid: query_words(parse_query(queries[qid]).text) for qid in qrels}
    for low, high in LENGTHS:
        group = [qid for qid in qrels if low <= words[qid] <= high]
        if not group:
            continue
        sub = {qid: qrels[qid] for qid in group}
        ndcg = {
            w: evaluate(sub, {qid: run[qid] for qid in group}, judged)["ndcg@10"]
            for w, run in swept.items()
        }
        best = max(ndcg, key=lambda w: ndcg[w])
        cells = [f"**{v:.4f}**" if w == best else f"{v:.4f}" for w, v in ndcg.items()]
        span = f"{low}-{high}" if high < 999 else f"{low}+"
        span = str(low) if low == high else span
        lines.append(f"| {label} | {model} | {span} | {len(group)} | " + " | ".join(cells) + " |")
        print(f"by length {label} {model} {span} words ({len(group)}): {ndcg}", flush=True)
    return lines


def _ablations(engine, label, model, queries, qrels, rows) -> None:
    """The same indexes without passage re-scoring, and plain RRF, for comparison."""
    passages, engine.indexes.passages = engine.indexes.passages, None
    runs = run_modes(engine, queries, qrels, ["keyword", "semantic", "hybrid"])
    for mode in ("semantic", "hybrid"):
        scores = evaluate(qrels, runs[mode])
        rows.append(
            (
                label,
                f"{mode} ({model}), no passage re-scoring",
                scores["ndcg@10"],
                scores["recall@100"],
            )
        )
        print(rows[-1], flush=True)
    engine.indexes.passages = passages
    rrf = {
        qid: dict(
            reciprocal_rank_fusion(list(runs["keyword"][qid]), list(runs["semantic"][qid]))[:100]
        )
        for qid in qrels
    }
    scores = evaluate(qrels, rrf)
    rows.append(
        (
            label,
            f"reciprocal-rank fusion ({model}), for comparison",
            scores["ndcg@10"],
            scores["recall@100"],
        )
    )
    print(rows[-1], flush=True)


if __name__ == "__main__":
    main()
