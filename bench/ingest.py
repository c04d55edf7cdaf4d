"""Bulk-import speed and memory: `paperboy import` of the 74,728 real arXiv cs listings.

Reads, from the shared data folder beside the clone (`../shared/data`, not in the repo),
corpora/arxiv_cs_listings.jsonl.gz. Each import runs in a fresh store in a child process, so its peak RSS is measured alone. Memory must not grow with
the file: the script also imports the first tenth of the file and compares the peaks.

    python bench/ingest.py [--corpus PATH] [--runs 3]
    nice python bench/ingest.py --searchable [--baseline REF] [--runs 2]

`--searchable` times the whole `paperboy import` command (store, keyword index, static
vectors, HNSW graph: every paper searchable at the end), phase by phase, each run in a fresh
data dir in a child process that runs the real command (`paperboy --data-dir D import FILE`).
Phases are timed by wrapping the functions that do them (exclusive time: a phase's time
excludes the wrapped phases it calls); where they run in parallel threads their times add up
to more than the wall time. With `--baseline REF` the same runs are made with the code of that
git commit (extracted to a temporary folder), alternating with this checkout's, so both see
the same load on a shared machine: the ratio of the two is the figure to trust.
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
from report import write_section

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
run = import_file(store, Path(sys.argv[1]), settings, show_progress=False, index=False)
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(run.added, run.rejected, elapsed, rss_mb)
"""


def import_once(path: Path) -> tuple[int, int, float, float]:
    with tempfile.TemporaryDirectory() as data:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), data],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    return int(out[0]), int(out[1]), float(out[2]), float(out[3])


# The child of --searchable: the real CLI command, with each phase's functions wrapped in a
# timer. A name missing in the code under test (an older commit) is skipped.
SEARCHABLE_CHILD = r"""
import json, os, resource, sys, threading, time
import importlib

PHASES = [
    ("paperboy.ingest", "import_file", "parse and validate"),
    ("paperboy.store.sql", "SQLStore.upsert", "store writes"),
    ("paperboy.search", "update_indexes", "index update: the rest, waits included"),
    ("paperboy.store.sql", "SQLStore.changed_since", "read papers back from the store"),
    ("paperboy.search.files.keyword", "KeywordIndex.add", "keyword index: documents"),
    ("paperboy.search.files.keyword", "KeywordIndex.commit", "keyword index: commits"),
    ("paperboy.search.encoders", "StaticEncoder.encode", "static encoding"),
    ("paperboy.search.files.vectors", "VectorIndex.put", "vector rows (quantize, append)"),
    ("paperboy.search.files.vectors", "VectorIndex.save", "vector files"),
    ("usearch.index", "Index.add", "HNSW graph: add"),
    ("usearch.index", "Index.save", "HNSW graph: save"),
]
spent, cpu_spent, local, lock = {}, {}, threading.local(), threading.Lock()

def wrap(module, dotted, phase):
    import onnxruntime  # noqa: F401  (before usearch, as paperboy does)
    try:  # a module an older checkout (the baseline) does not have yet
        owner = importlib.import_module(module)
    except ModuleNotFoundError:
        return
    *path, name = dotted.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    fn = getattr(owner, name, None) if owner is not None else None
    if fn is None:
        return
    def timed(*args, **kwargs):
        stack = local.__dict__.setdefault("stack", [])
        stack.append([0.0, 0.0])
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.perf_counter() - started
            cpu_took = time.thread_time() - cpu_started
            inner, cpu_inner = stack.pop()
            with lock:
                spent[phase] = spent.get(phase, 0.0) + took - inner
                cpu_spent[phase] = cpu_spent.get(phase, 0.0) + cpu_took - cpu_inner
            if stack:
                stack[-1][0] += took
                stack[-1][1] += cpu_took
    setattr(owner, name, timed)

for module, dotted, phase in PHASES:
    wrap(module, dotted, phase)

# CPU time per thread, sampled from /proc (threads end before the command does): the
# thread's Python name where it has one, else the name its library gave it.
names, per_thread, sampling = {}, {}, True
run = threading.Thread.run
def named_run(self):
    names[threading.get_native_id()] = self.name.split("_")[0]
    return run(self)
threading.Thread.run = named_run
names[threading.get_native_id()] = "main"
def sample():
    tick = os.sysconf("SC_CLK_TCK")
    while sampling:
        for tid in os.listdir("/proc/self/task"):
            try:
                stat = open(f"/proc/self/task/{tid}/stat").read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            per_thread[int(tid)] = (comm, (int(fields[11]) + int(fields[12])) / tick)
        time.sleep(0.2)
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()

from paperboy.cli import main
corpus, data = sys.argv[1], sys.argv[2]
load = os.getloadavg()
cpu, started = time.process_time(), time.perf_counter()
try:
    main(["--data-dir", data, "import", corpus, "--quiet"], standalone_mode=False)
finally:
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    time.sleep(0.3)
    sampling = False
threads = {}
for tid, (comm, seconds) in per_thread.items():
    if tid != sampler.native_id:
        name = names.get(tid, comm)
        threads[name] = threads.get(name, 0.0) + seconds
from paperboy.config import Settings
try:
    from paperboy.search.upkeep import check_indexes, open_indexes
except ModuleNotFoundError:  # an older checkout's layout (the baseline)
    from paperboy.search.index import check_indexes, open_indexes
from paperboy.store import open_store
settings = Settings.load(data_dir=data)
store = open_store(settings)
indexes = open_indexes(store, settings)
bulk = indexes.bulk
graph = bulk.folder / "graph.usearch"
print(json.dumps({
    "wall": wall, "cpu": cpu, "phases": spent, "phases_cpu": cpu_spent, "threads": threads,
    "load": [load, os.getloadavg()],
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "papers": store.count_papers(), "keyword": indexes.keyword.count(), "static": len(bulk),
    "graph": int(bulk._graph is not None or graph.exists()),
    "problems": check_indexes(store, settings),
}))
"""


def searchable_once(corpus: Path, src: Path) -> dict:
    """One `paperboy import` into a fresh data dir with the code under `src`."""
    import json
    import os

    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, PYTHONPATH=str(src))
        done = subprocess.run(
            [sys.executable, "-c", SEARCHABLE_CHILD, str(corpus), data],
            capture_output=True,
            text=True,
            env=env,
        )
    if done.returncode != 0:
        sys.exit(f"the import with the code in {src} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def extract(ref: str, into: Path) -> Path:
    """The `src` folder of git commit `ref`, written under `into`."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def searchable(args) -> None:
    from report import load_average

    here = Path(__file__).resolve().parents[1] / "src"
    with tempfile.TemporaryDirectory() as tmp:
        sides = [("this checkout", here)]
        if args.baseline:
            sides.insert(0, (f"baseline {args.baseline}", extract(args.baseline, Path(tmp))))
        results: dict[str, list[dict]] = {name: [] for name, _ in sides}
        for run in range(args.runs):
            for name, src in sides:
                result = searchable_once(args.corpus, src)
                results[name].append(result)
                print(
                    f"run {run + 1} {name}: {result['wall']:.1f} s wall, {result['cpu']:.1f} s "
                    f"CPU, {result['papers']:,} papers, keyword {result['keyword']:,}, static "
                    f"{result['static']:,}, graph {result['graph']}, problems "
                    f"{result['problems'] or 'none'}, load {result['load']}",
                    flush=True,
                )
    write_searchable(args, sides, results, load_average())


def write_searchable(args, sides, results, load_after: str) -> None:
    names = [name for name, _ in sides]
    med = {
        name: {
            "wall": statistics.median(r["wall"] for r in results[name]),
            "cpu": statistics.median(r["cpu"] for r in results[name]),
        }
        for name in names
    }
    phases = list(dict.fromkeys(p for name in names for r in results[name] for p in r["phases"]))
    head = "| phase (seconds: busy / CPU of its thread) | " + " | ".join(names) + " |"
    lines = [head, "|---|" + "---:|" * len(names)]
    for phase in phases:
        cells = [
            f"{statistics.median(r['phases'].get(phase, 0.0) for r in results[n]):.1f} / "
            f"{statistics.median(r['phases_cpu'].get(phase, 0.0) for r in results[n]):.1f}"
            for n in names
        ]
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    lines.append(
        "| **wall time, whole command** | "
        + " | ".join(f"**{med[n]['wall']:.1f}**" for n in names)
        + " |"
    )
    lines.append(
        "| CPU time (all threads) | " + " | ".join(f"{med[n]['cpu']:.1f}" for n in names) + " |"
    )
    lines.append(
        "| cores used (CPU / wall) | "
        + " | ".join(f"{med[n]['cpu'] / med[n]['wall']:.2f}" for n in names)
        + " |"
    )
    busiest = {
        t: max(r["threads"].get(t, 0.0) for n in names for r in results[n])
        for n in names
        for r in results[n]
        for t in r.get("threads", {})
    }
    thread_names = sorted(
        (t for t, most in busiest.items() if most >= 0.5), key=lambda t: -busiest[t]
    )
    for thread in thread_names:
        lines.append(
            f"| CPU of thread `{thread}` | "
            + " | ".join(
                f"{statistics.median(r['threads'].get(thread, 0.0) for r in results[n]):.1f}"
                for n in names
            )
            + " |"
        )
    lines.append(
        "| peak RSS MB | "
        + " | ".join(f"{max(r['rss_mb'] for r in results[n]):.0f}" for n in names)
        + " |"
    )
    runs = "; ".join(
        f"{n}: " + ", ".join(f"{r['wall']:.0f} s (load {r['load'][0][0]:.1f})" for r in results[n])
        for n in names
    )
    ratio = ""
    if len(names) == 2:
        pairs = [
            new["wall"] / old["wall"] for old, new in zip(results[names[0]], results[names[1]])
        ]
        ratio = (
            f"\n\nThis checkout against {names[0]}, run by run in alternation: wall time "
            f"x{statistics.median(pairs):.2f} (" + ", ".join(f"{p:.2f}" for p in pairs) + ")."
        )
    last = results[names[-1]][-1]
    print("\n".join(lines) + ratio)
    write_section(
        "import_searchable",
        "Import to searchable (`bench/ingest.py --searchable`)",
        f"""
`nice python bench/ingest.py --searchable{f" --baseline {args.baseline}" if args.baseline else ""} --runs {args.runs}`:
`paperboy import` of `../shared/data/corpora/arxiv_cs_listings.jsonl.gz` (74,728 papers) into a
fresh data dir, until every paper is searchable: store, keyword index, static vectors and
their HNSW graph ({last["papers"]:,} papers, keyword {last["keyword"]:,}, static vectors
{last["static"]:,}, `paperboy index --check`: {"; ".join(last["problems"]) or "no problems"}).
Medians of {args.runs} runs, in seconds. A phase is the time spent in the functions doing it
(busy: wall time, its threads' waits included; CPU: the calling thread's CPU time, so the
tokenizer's and tantivy's own threads are not in it); phases in parallel threads add up to
more than the wall time. The CPU of each thread, sampled from /proc, shows how the work is
spread (`python`: threads libraries start without a name of their own, the tokenizer's pool
and, in the baseline, usearch's): with two quiet cores the wall time cannot be below half the total CPU time nor
below the busiest thread's. Load averages 1/5/15 min at the end (this benchmark keeps about two
cores busy itself):
{load_after}; per run, the 1-minute load at its start: {runs}. On a busy machine the wall
times are the share of two cores this process got: only the ratio of alternating runs
compares the two there.

{chr(10).join(lines)}{ratio}

Target: at most 60 s on 2 quiet cores.
""",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--searchable",
        action="store_true",
        help="time the whole import until searchable, phase by phase",
    )
    parser.add_argument("--baseline", help="with --searchable: a git commit to compare with")
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(
            f"{args.corpus} not found: give it with --corpus (default: the shared "
            "data folder beside the clone, ../shared/data)"
        )
    if args.searchable:
        return searchable(args)

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
    print(
        f"full: {added:,} papers, rejected {runs[0][1]}, "
        f"median {statistics.median(rates):,.0f} papers/s over {len(runs)} runs "
        f"({', '.join(f'{r:,.0f}' for r in rates)}), peak RSS {rss:.0f} MB"
    )
    print(
        f"tenth: {small[0]:,} papers, {small[0] / small[2]:,.0f} papers/s, "
        f"peak RSS {small[3]:.0f} MB"
    )
    write_section(
        "ingest",
        "Bulk import (`bench/ingest.py`)",
        f"""
`python bench/ingest.py` imports `../shared/data/corpora/arxiv_cs_listings.jsonl.gz` (74,728 real
arXiv cs papers, gzip JSON lines) into a fresh SQLite store, in a child process per run.
The keyword index is not in the store, so it is not included here (see the search section).

| input | papers | papers/s (median of {len(runs)}) | peak RSS |
|---|---:|---:|---:|
| whole file (43 MB gz) | {added:,} | {statistics.median(rates):,.0f} | {rss:.0f} MB |
| first tenth | {small[0]:,} | {small[0] / small[2]:,.0f} | {small[3]:.0f} MB |

Targets: at least 5,000 papers/s, at most 500 MB, independent of file size (the tenth and the
whole file should peak alike: the importer streams, holding one batch at a time).
""",
    )


if __name__ == "__main__":
    main()
