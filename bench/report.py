"""Shared by the benchmarks: describe the machine, and write a section of docs/benchmarks.md.

Each benchmark owns one section, delimited by `<!-- bench:NAME -->` markers, and rewrites only
that section, so figures from different scripts and days sit side by side.
"""

from __future__ import annotations

import os
import platform
import re
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Figures measured by the scripts in `bench/`; each section names its command, machine and date.
Rerun a script to refresh its section. Tests never assert on these numbers.

`DATA` in the commands below is the benchmark data folder, which is not part of the repository:
`DATA/corpora/arxiv_cs_listings.jsonl.gz` (74,728 real arXiv cs listings, gzip JSON lines) and
`DATA/bench/scifact` (the BEIR SciFact set). Each script takes its files as arguments
(`--corpus`, `--beir`) and says in its opening docstring where it looks by default.
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def load_average() -> str:
    """The 1/5/15-minute load averages, for figures measured on a shared machine."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


# The data folder as the docs name it: the page describes `DATA` once (HEADER) and never
# gives a path outside the repository.
DATA_PATH = re.compile(r"(?:\.\./)+shared/data(?=/)|/\S*?/shared/data(?=/)")


def write_section(name: str, title: str, body: str) -> None:
    text = DOC.read_text() if DOC.exists() else HEADER
    body = DATA_PATH.sub("DATA", body)
    section = (
        f"<!-- bench:{name} -->\n## {title}\n\n_Measured {date.today().isoformat()} on "
        f"{machine()}._\n\n{body.strip()}\n<!-- /bench:{name} -->"
    )
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section + "\n"
    )
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
