"""Bulk-import speed and memory: `paperboy import` of the 74,728 real arXiv cs listings.

Reads ../shared/data/corpora/arxiv_cs_listings.jsonl.gz (not in the repo). Each import runs in
a fresh store in a child process, so its peak RSS is measured alone. Memory must not grow with
the file: the script also imports the first tenth of the file and compares the peaks.

    python bench/ingest.py [--corpus PATH] [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from report import write_section  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "../shared/data/corpora/arxiv_cs_listings.jsonl.gz"

CHILD = """
import resource, sys, time
from pathlib import Path
from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.store import open_store
settings = Settings.load(data_dir=sys.argv[2])
store = open_store(settings)
start = time.perf_counter()
run = import_file(store, Path(sys.argv[1]), settings, show_progress=False)
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(run.added, run.rejected, elapsed, rss_mb)
"""


def import_once(path: Path) -> tuple[int, int, float, float]:
    with tempfile.TemporaryDirectory() as data:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), data], check=True,
                             capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1]), float(out[2]), float(out[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"{args.corpus} not found: this benchmark reads ../shared/data (see its README)")

    with tempfile.TemporaryDirectory() as tmp:
        tenth = Path(tmp) / "tenth.jsonl.gz"
        with gzip.open(args.corpus, "rt") as src, gzip.open(tenth, "wt") as out:
            for i, line in enumerate(src):
                if i >= 7_473:
                    break
                out.write(line)
        small = import_once(tenth)
        runs = [import_once(args.corpus) for _ in range(args.runs)]

    added = runs[0][0]
    rates = [r[0] / r[2] for r in runs]
    rss = max(r[3] for r in runs)
    print(f"full: {added:,} papers, rejected {runs[0][1]}, "
          f"median {statistics.median(rates):,.0f} papers/s over {len(runs)} runs "
          f"({', '.join(f'{r:,.0f}' for r in rates)}), peak RSS {rss:.0f} MB")
    print(f"tenth: {small[0]:,} papers, {small[0] / small[2]:,.0f} papers/s, "
          f"peak RSS {small[3]:.0f} MB")
    write_section("ingest", "Bulk import (`bench/ingest.py`)", f"""
`python bench/ingest.py` imports `../shared/data/corpora/arxiv_cs_listings.jsonl.gz` (74,728 real
arXiv cs papers, gzip JSON lines) into a fresh SQLite store, in a child process per run.
The keyword index is not in the store, so it is not included here (see the search section).

| input | papers | papers/s (median of {len(runs)}) | peak RSS |
|---|---:|---:|---:|
| whole file (43 MB gz) | {added:,} | {statistics.median(rates):,.0f} | {rss:.0f} MB |
| first tenth | {small[0]:,} | {small[0] / small[2]:,.0f} | {small[3]:.0f} MB |

Targets: at least 5,000 papers/s, at most 500 MB, independent of file size (the tenth and the
whole file should peak alike: the importer streams, holding one batch at a time).
""")


if __name__ == "__main__":
    main()
