"""Search quality as a user gets it: `paperboy import FILE`, `paperboy serve`, then every judged
query through `/api/papers/search` over HTTP.

    nice .venv/bin/python bench/product_quality.py --beir ../shared/data/bench/scifact \
        --split train --short bench/short_queries \
        --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz --write

`bench/search_quality.py` ranks with the engine's own `rank()` over a store it fills itself;
this one goes through the product's own paths end to end, as someone evaluating paperboy on
their own retrieval set would: the import's parser, its choice of vectors (the transformer
for a corpus of up to `search_embed_limit` papers, static vectors beyond), the query as the
API reads it, and the API's answer. Two sets:

- a BEIR-layout collection (`--beir`, reads `../shared/data/bench/`): its corpus is written
  as arXiv metadata-snapshot lines under stand-in arXiv ids (`2001.00001`, ... in corpus
  order; the API answers with those, mapped back to the collection's ids), since
  `paperboy import` takes arXiv papers;
- the short-query set (`--short` with `--corpus`, the 74,728 arXiv cs listings): the listing
  file is imported as it is, and judged as `search_quality.py` judges it (only judged papers
  count, a condensed list).

With `--postgres` each set goes into a new database on a PostgreSQL server of its own
(the tests' embedded one, as `bench/search_backends.py` starts it; or `--database-url`), as a
deployment on PostgreSQL stores and searches (`PAPERBOY_DATABASE_URL`: the papers and the
search tables both in the database).

Each query asks for `limit=100`; nDCG@10 and Recall@100 by pytrec_eval. Then a few of the
collection's own abstracts are pasted whole as queries (the way someone searches by an
abstract; any longer than the API takes, `bounds.QUERY_CHARS`, are left out): whether the
paper comes back first, and how long the answer took.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import load_average, write_section
from search_backends import postgres
from search_quality import evaluate, load_beir, load_short_queries
from web_load import bench_env, free_port, start_server

from paperboy import bounds

PASTED = 40  # abstracts pasted as queries per set
ON_POSTGRES = (
    " with `PAPERBOY_DATABASE_URL` naming a new PostgreSQL database (papers and search "
    "tables in it)"
)
AGAIN = """
With `--again` nothing is imported: the folders an earlier run imported are served as they
are now; here after `paperboy --data-dir DIR/short index --backfill` gave every one of the
74,728 papers transformer vectors in place of the static ones the import gave them."""


def pastable(doc: dict) -> bool:
    """Whether the document's text can be pasted as a query (the API takes QUERY_CHARS)."""
    return 0 < len(doc.get("text") or "") <= bounds.QUERY_CHARS


def stand_in_id(number: int) -> str:
    """The arXiv id standing for the collection's `number`-th document (0-based)."""
    month, rest = divmod(number, 99_999)
    year, month = divmod(month, 12)
    return f"{20 + year:02d}{month + 1:02d}.{rest + 1:05d}"


def write_beir_as_snapshot(corpus: list[dict], out: Path) -> dict[str, str]:
    """The collection as snapshot lines; the stand-in id of each document id."""
    ids = {}
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        for number, doc in enumerate(corpus):
            arxiv = stand_in_id(number)
            ids[str(doc["_id"])] = arxiv
            line = {
                "id": arxiv,
                "title": doc.get("title") or "(untitled)",
                "abstract": doc.get("text") or doc.get("title") or "(no text)",
                "authors": "",
                "versions": [{"version": "v1", "created": "Wed, 1 Jan 2020 00:00:00 GMT"}],
            }
            fh.write(json.dumps(line) + "\n")
    return ids


def run_import(data_dir: Path, corpus: Path, env: dict[str, str]) -> tuple[float, str]:
    """`paperboy import FILE` as a user runs it: seconds, and what it said at the end."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "--data-dir", str(data_dir), "import", str(corpus)]
        + ["--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        said = (done.stdout + done.stderr).strip()
        sys.exit(f"paperboy import failed ({done.returncode}):\n{said[-3000:]}")
    lines = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return seconds, " ".join(lines[-1].split()) if lines else ""


def ask(port: int, query: str, limit: int = 100) -> tuple[list[str], float]:
    """The ids `/api/papers/search` answers, best first, and the milliseconds it took."""
    url = f"http://127.0.0.1:{port}/api/papers/search?" + urllib.parse.urlencode(
        {"q": query, "limit": limit}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as answer:
        body = answer.read()
    elapsed = (time.perf_counter() - started) * 1000
    return [item["paper"]["id"] for item in json.loads(body)], elapsed


def judged_run(port: int, queries: dict[str, str], qids, back: dict[str, str] | None):
    """Every judged query through the API; a run for pytrec_eval (rank-ordered scores)."""
    run, times = {}, []
    for qid in qids:
        ids, ms = ask(port, queries[qid])
        times.append(ms)
        ranked = [back.get(i, i) for i in ids] if back else ids
        run[qid] = {pid: float(len(ranked) - rank) for rank, pid in enumerate(ranked)} or {"-": 0.0}
    return run, times


def pasted(port: int, docs: list[tuple[str, str]]) -> dict:
    """Abstracts pasted whole as queries: how often their paper comes back first, and time."""
    first, times = 0, []
    for arxiv, abstract in docs:
        ids, ms = ask(port, abstract, limit=10)
        times.append(ms)
        first += bool(ids) and ids[0] == arxiv
    times.sort()
    return {
        "n": len(docs),
        "first": first,
        "chars": statistics.median(len(a) for _, a in docs),
        "p50": statistics.median(times),
        "max": times[-1],
    }


def served(data_dir: Path, log: Path, work, env: dict[str, str]):
    port = free_port()
    proc = start_server(data_dir, port, 1, env=env, log=log, timeout=600)
    try:
        return work(port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure_set(
    name, data_dir, corpus_file, queries, qrels, back, judged, docs, again, database=""
) -> dict:
    """Import (unless `again`), serve and ask; `database`: a PostgreSQL URL to store in."""
    env = bench_env(PAPERBOY_DATABASE_URL=database) if database else bench_env()
    if again:  # the folder an earlier run imported (then backfilled, say), served as it is
        if not (data_dir / "paperboy.sqlite3").exists():
            sys.exit(f"--again: {data_dir} holds no imported data; run without --again first")
        seconds, said = 0.0, "(imported before; served as it is now)"
    else:
        print(f"[{name}] importing {corpus_file.name} ...", flush=True)
        seconds, said = run_import(data_dir, corpus_file, env)
    print(f"[{name}] import {seconds:.0f} s: {said}", flush=True)

    def work(port: int):
        for qid in list(qrels)[:10]:  # warm-up: the files the queries touch
            ask(port, queries[qid])
        run, times = judged_run(port, queries, list(qrels), back)
        return run, times, pasted(port, docs)

    run, times, paste = served(data_dir, data_dir.parent / f"{name}-serve.log", work, env)
    scores = evaluate(qrels, run, judged)
    times.sort()
    out = {
        "import_s": seconds,
        "said": said,
        "queries": len(qrels),
        **scores,
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "pasted": paste,
    }
    print(f"[{name}] {json.dumps(out)}", flush=True)
    return out


def measure_sets(args, work: Path, results: dict, new_database) -> None:
    """The sets the arguments name, each imported into `work` (and `new_database()`, a
    PostgreSQL URL, or "" for SQLite) and asked; their figures into `results`."""
    if args.beir:
        corpus, queries, qrels = load_beir(args.beir, args.split)
        qrels = {q: r for q, r in qrels.items() if q in queries}
        file = work / f"{args.beir.name}.jsonl.gz"
        ids = write_beir_as_snapshot(corpus, file)
        back = {arxiv: doc for doc, arxiv in ids.items()}
        step = max(1, len(corpus) // PASTED)
        docs = [(ids[str(d["_id"])], d["text"]) for d in corpus[::step][:PASTED] if pastable(d)]
        results[f"{args.beir.name} {args.split}"] = measure_set(
            args.beir.name,
            work / args.beir.name,
            file,
            queries,
            qrels,
            back,
            None,
            docs,
            args.again,
            new_database(),
        )
    if args.short:
        corpus, queries, qrels, judged = load_short_queries(args.short, args.corpus)
        step = max(1, len(corpus) // PASTED)
        docs = [(d["_id"], d["text"]) for d in corpus[::step][:PASTED] if pastable(d)]
        results["short queries"] = measure_set(
            "short",
            work / "short",
            args.corpus,
            queries,
            qrels,
            None,
            judged,
            docs,
            args.again,
            new_database(),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", type=Path, help="a BEIR-layout folder")
    parser.add_argument("--split", default="test", help="qrels/NAME.tsv to evaluate")
    parser.add_argument("--short", type=Path, help="the short-query set (bench/short_queries)")
    parser.add_argument("--corpus", type=Path, help="the arXiv cs listings, for --short")
    parser.add_argument("--work", type=Path, help="keep the data folders here")
    parser.add_argument(
        "--again",
        action="store_true",
        help="serve the data folders an earlier run left in --work (after `paperboy index "
        "--backfill` on them, say) instead of importing",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="store and search in PostgreSQL (a server of the bench's own unless --database-url)",
    )
    parser.add_argument(
        "--database-url", help="with --postgres: an empty database (then one set per run)"
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.postgres and args.again:
        parser.error("--again serves the SQLite folders of an earlier run, not --postgres")
    if args.database_url and not (args.postgres and bool(args.beir) != bool(args.short)):
        parser.error("--database-url needs --postgres and one set (--beir or --short)")
    if args.again and not args.work:
        parser.error("--again needs --work (the folder of the earlier run)")
    if not args.beir and not args.short:
        parser.error("give --beir, --short (with --corpus) or both")
    if args.short and not args.corpus:
        parser.error("--short needs --corpus (the arXiv cs listings file)")
    work = args.work or Path(tempfile.mkdtemp(prefix="pb-product-quality-"))
    work.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    results = {}
    with ExitStack() as stack:
        new_database = (
            stack.enter_context(postgres(args.database_url)) if args.postgres else lambda: ""
        )
        measure_sets(args, work, results, new_database)
    load_after = load_average()
    rows = []
    for name, r in results.items():
        p = r["pasted"]
        rows.append(
            f"| {name} | {r['queries']} | {r['ndcg@10']:.4f} | {r['recall@100']:.4f} | "
            f"{r['p50']:.0f} / {r['p99']:.0f} | {r['import_s']:.0f} s: `{r['said']}` | "
            f"{p['first']} of {p['n']} first; {p['p50']:.0f} / {p['max']:.0f} ms |"
        )
    body = f"""`nice .venv/bin/python bench/product_quality.py {" ".join(_shown(sys.argv[1:]))}`

Through the product's own paths: `paperboy import FILE` into a new data folder{ON_POSTGRES if args.postgres else ""}, `paperboy serve
--workers 1`, each judged query as `GET /api/papers/search?q=...&limit=100`, nDCG@10 and
Recall@100 by pytrec_eval (the short-query set judged on its judged papers only, out of the
API's top 100: `search_quality.py` condenses a 1,000-deep ranking, so its Recall@100 reads
deeper than any answer of the API, whose `limit` stops at 120). The
collection's corpus is imported as snapshot lines under stand-in arXiv ids. *Pasted*: {PASTED}
of the collection's own abstracts sent whole as queries (median length in characters below):
how many came back first, and the answer's p50 / slowest time. Load average before
{load_before}, after {load_after}.{AGAIN if args.again else ""}

| set | judged queries | nDCG@10 | Recall@100 | answer p50 / p99 ms | import, and its last line | pasted abstracts |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Median pasted abstract: {", ".join(f"{n} {r['pasted']['chars']:,.0f} characters" for n, r in results.items())}.
"""
    print(body)
    if args.write:
        if args.postgres:
            name, title = "product_quality_postgres", "Search quality on PostgreSQL"
        elif args.again:
            name, title = "product_quality_again", "Search quality through the API after a backfill"
        else:
            name, title = "product_quality", "Search quality through import and the API"
        write_section(name, f"{title} (`bench/product_quality.py`)", body)


def _shown(argv: list[str]) -> list[str]:
    """The command line as the docs show it: the scratch folder as DIR."""
    shown = [a.replace(os.path.expanduser("~"), "~") for a in argv]
    return [
        "DIR" if before == "--work" else a
        for before, a in zip(["", *shown[:-1]], shown, strict=True)
    ]


if __name__ == "__main__":
    main()
