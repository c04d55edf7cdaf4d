"""Author pages at 74,728 papers: the indexed author-name table against the scan it replaced.

Imports `DATA/corpora/arxiv_cs_listings.jsonl.gz` (74,728 real arXiv cs papers) into a fresh
SQLite store, then times, for 200 author names drawn from the corpus (fixed seed):
- `People.papers_by_author` (one lookup in `paper_authors`, migration 0016);
- the scan it replaced (every paper's JSON author list, compared in Python), on 5 names;
- the migration's data step (`fill_author_names`) over the whole store, the one-off cost of
  upgrading a store of this size;
- the author page itself (`GET /authors/{name}` through the app, in-process) for the name with
  the most papers: one page of 30 cards, and the same page with the 200 cards it showed at
  once before it was paged (web/people.py's PAGE set to 200 for that measurement);
- the import itself, which now writes the name rows too, and the same import into a second
  fresh store with the name rows left out (the upsert's `write_author_names` replaced by a
  no-op for that run only), so the rows' cost is measured under the same load.

    python bench/authors.py [--corpus DATA/corpora/arxiv_cs_listings.jsonl.gz]

Prints the figures and writes them to docs/benchmarks.md (section authors).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from report import write_section

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "corpora" / "arxiv_cs_listings.jsonl.gz"


def old_scan(store, name: str, limit: int = 200) -> list[str]:
    """The author lookup before migration 0016 (store/people.py at that time, whose
    normalize_name was today's general path, `folded_name`)."""
    from paperboy.store.authors import folded_name

    wanted, found = folded_name(name), []
    for pid, authors in store.conn.execute(
        "SELECT id, authors FROM papers ORDER BY published IS NULL, published DESC, id DESC"
    ):
        if any(folded_name(a) == wanted for a in json.loads(authors)):
            found.append(pid)
            if len(found) >= limit:
                break
    return found


def author_pages(store, settings) -> dict[str, float]:
    """Median ms of the author page of the most prolific name: 30 cards, and 200 as before
    paging; and how many papers the name has."""
    from urllib.parse import quote

    from fastapi.testclient import TestClient

    import paperboy.web.people as people_pages
    from paperboy.web.app import create_app

    top, papers = store.conn.execute(
        "SELECT name_key, count(*) AS n FROM paper_authors GROUP BY name_key "
        "ORDER BY n DESC, name_key LIMIT 1"
    ).fetchone()
    timings = {}
    with TestClient(create_app(settings, store=store)) as client:

        def median_ms(path: str, runs: int = 7) -> float:
            assert client.get(path).status_code == 200, path
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - t) * 1000)
            return statistics.median(times)

        path = "/authors/" + quote(top, safe="")
        timings["author"] = median_ms(path)
        saved = people_pages.PAGE
        people_pages.PAGE = 200
        try:
            timings["author200"] = median_ms(path)
        finally:
            people_pages.PAGE = saved
        timings["papers"] = papers
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--no-write", action="store_true", help="don't update docs/benchmarks.md")
    args = parser.parse_args()
    os.environ["PAPERBOY_SEARCH_MODEL"] = "static"
    from paperboy.config import Settings
    from paperboy.ingest import import_file
    from paperboy.store import open_store
    from paperboy.store.authors import fill_author_names
    from paperboy.store.people import People

    load_before = os.getloadavg()[0]
    import paperboy.store.papers as papers_module

    with tempfile.TemporaryDirectory(prefix="paperboy-authors-") as tmp:
        settings = Settings.load(data_dir=Path(tmp))
        store = open_store(settings)
        real = papers_module.write_author_names
        papers_module.write_author_names = lambda conn, papers, stored=True: None
        try:
            start = time.perf_counter()
            import_file(store, args.corpus, settings, show_progress=False, index=False)
            without_rows = time.perf_counter() - start
        finally:
            papers_module.write_author_names = real
        store.close()
    with tempfile.TemporaryDirectory(prefix="paperboy-authors-") as tmp:
        settings = Settings.load(data_dir=Path(tmp))
        store = open_store(settings)
        start = time.perf_counter()
        import_file(store, args.corpus, settings, show_progress=False, index=False)
        imported = time.perf_counter() - start
        papers = store.count_papers()
        rows = store.conn.execute("SELECT count(*) FROM paper_authors").fetchone()[0]
        names = sorted({a for p in store.iter_papers() for a in p.authors})
        sample = random.Random(14).sample(names, 200)
        people = People(store)
        indexed = []
        for name in sample:
            t = time.perf_counter()
            found = people.papers_by_author(name)
            indexed.append((time.perf_counter() - t) * 1000)
            assert found, name
        scanned = []
        for name in sample[:5]:
            t = time.perf_counter()
            old = old_scan(store, name)
            scanned.append((time.perf_counter() - t) * 1000)
            assert old == people.papers_by_author(name), name  # the same answer, in order
        page_ms = author_pages(store, settings)
        with store.transaction() as conn:
            conn.execute("DELETE FROM paper_authors")
            t = time.perf_counter()
            fill_author_names(conn)
            filled = time.perf_counter() - t
        assert store.conn.execute("SELECT count(*) FROM paper_authors").fetchone()[0] == rows
        store.close()
    load = os.getloadavg()[0]

    lines = [
        "| step | figure |",
        "|---|---:|",
        f"| author lookup, indexed (200 names), p50 / p99 | {statistics.median(indexed):.2f} / "
        f"{pct(indexed, 0.99):.2f} ms |",
        f"| author lookup, the scan it replaced (5 names), median | "
        f"{statistics.median(scanned):,.0f} ms |",
        f"| author page, {page_ms['papers']:.0f} papers (the most), 30 cards (median of 7) | "
        f"{page_ms['author']:.0f} ms |",
        f"| the same page with {min(page_ms['papers'], 200):.0f} cards (up to 200: as before "
        f"paging) | {page_ms['author200']:.0f} ms |",
        f"| migration 0016 data step (`fill_author_names`), whole store | {filled:.1f} s |",
        f"| import of the corpus, name rows included | {imported:.1f} s "
        f"({papers / imported:,.0f} papers/s) |",
        f"| the same import without the name rows | {without_rows:.1f} s "
        f"({papers / without_rows:,.0f} papers/s) |",
        f"| name rows / papers | {rows:,} / {papers:,} |",
    ]
    body = (
        f"`python bench/authors.py --corpus {args.corpus}`: {papers:,} real arXiv cs papers "
        "in a fresh SQLite store; 200 author names drawn from them (seed 14). The lookup is "
        "`People.papers_by_author` (the `/authors/{name}` page's query, store/people.py); the "
        "scan is the code it replaced, run on 5 of the names and checked to give the same "
        "papers in the same order. The two imports ran one after the other (`import_file`, "
        f"no search index). Load average (1 min) {load_before:.2f} before, {load:.2f} "
        "after.\n\n" + "\n".join(lines)
    )
    print("\n".join(lines))
    if not args.no_write:
        write_section("authors", "Author pages (`bench/authors.py`)", body)


if __name__ == "__main__":
    main()
