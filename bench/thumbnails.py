"""Benchmark: what first-page thumbnails cost per 1,000 papers, in time and disk.

    .venv/bin/python bench/thumbnails.py               # 200 papers, scaled to 1,000
    .venv/bin/python bench/thumbnails.py --papers 1000

A real `make_thumbnails` run (the code `paperboy thumbnails` runs) over a fresh SQLite store of
N feed papers, each PDF served by a loopback HTTP server (arXiv PDFs cannot be downloaded on
the test machines): half the papers get the typeset abstract of tests/fixtures/pdf (68 KB,
one page), half a longer real PDF a Debian documentation package ships when it is installed
(/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf, 140 KB, 19 pages; else the
fixture). `http_min_interval` is 0 here, so the time is fetching over loopback, drawing and
storing; against arXiv the polite client adds its 3 s between requests, which the report
adds up separately (it dominates: 50 minutes per 1,000 papers). Prints a Markdown section;
docs/benchmarks.md holds the last one.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from paperboy.config import Settings
from paperboy.papers import FeedEntry, Paper
from paperboy.store import open_store
from paperboy.store.media import Thumbnails
from paperboy.thumbnails import make_thumbnails, thumbnail_dir
from tests.replay import ReplayServer, Reply

FIXTURE = ROOT / "tests" / "fixtures" / "pdf" / "2405.15738.pdf"
DEBIAN_PDF = Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=200)
    args = parser.parse_args()
    pdfs = [FIXTURE.read_bytes(), (DEBIAN_PDF if DEBIAN_PDF.exists() else FIXTURE).read_bytes()]
    with tempfile.TemporaryDirectory() as tmp, ReplayServer() as server:
        settings = Settings(
            data_dir=Path(tmp),
            http_min_interval=0.0,
            http_retries=0,
            arxiv_pdf_url=server.url("/pdf"),
        )
        store = open_store(settings)
        ids = [f"2608.{n:05d}" for n in range(args.papers)]
        store.upsert(
            [
                Paper(
                    pid,
                    f"Paper {pid}",
                    "An abstract.",
                    entry=FeedEntry(date(2026, 8, 21) - timedelta(n % 30), "hf"),
                )
                for n, pid in enumerate(ids)
            ]
        )
        for n, pid in enumerate(ids):
            server.route(f"/pdf/{pid}", Reply(200, pdfs[n % 2], content_type="application/pdf"))
        started = time.perf_counter()
        cpu = time.process_time()
        run = make_thumbnails(store, settings, show_progress=False)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        done, size = Thumbnails(store).totals().get("done", (0, 0))
        files = len(list(thumbnail_dir(settings).glob("*.webp")))
        store.close()
    assert done == args.papers and not run.failed, run.failed
    per_k = 1000 / args.papers
    polite = 1000 * Settings().http_min_interval / 60
    print(f"""## Thumbnails (`bench/thumbnails.py`)

_Measured {date.today().isoformat()} on {os.cpu_count()} cores ({
        platform.processor() or platform.machine()
    }), Python {platform.python_version()}; {args.papers} papers, scaled to 1,000._

| per 1,000 papers | value |
|---|---|
| fetch (loopback) + draw + store, wall | {wall * per_k:,.0f} s ({
        wall / args.papers * 1000:,.0f} ms a paper) |
| CPU of this process (the loopback server's threads included) | {cpu * per_k:,.0f} s |
| arXiv's 3 s between requests (polite client) | {polite:,.0f} min |
| disk: WebP files, {Settings().thumbnail_width} px wide | {size * per_k / 1e6:,.1f} MB ({
        size / done / 1000:,.1f} KB a paper, {files} files) |
| PDFs kept | none (read into memory, drawn, dropped) |
""")


if __name__ == "__main__":
    main()
