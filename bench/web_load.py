"""Web load: requests/s and p50/p99 latency of the production server on the demo corpus.

Starts `paperboy serve --workers 2` (uvicorn, the production command) on loopback over a fresh
store loaded with the bundled demo corpus (3,000 real HF daily papers; no outside data needed),
then drives each page with wrk (Debian package `wrk`; `apt-get install wrk`): the daily page,
a paper page, a search page and /api/daily_papers. wrk runs on the same machine, so it takes
CPU from the server: the figures are a floor for a machine that only serves.

    python bench/web_load.py [--duration 10] [--connections 16] [--workers 2] [--concurrency]

With --concurrency the search page is also loaded with 1, 2, 4, 8 and 16 connections: wrk is
closed-loop, so at 16 connections each request waits behind the others and p99 is mostly that
wait; the curve shows how much search traffic the server answers within p99 <= 100 ms.

Targets (2-core machine): daily page >= 500 req/s, search >= 100 req/s, p99 <= 100 ms,
zero errors. The script prints the table and writes it to docs/benchmarks.md (web_load).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from report import write_section

# The tests' `paperboy serve` command line and free loopback port: one definition of how an
# operator starts the server, for the benches and the tests alike.
from tests.web.serving import free_port, serve_command

SEARCH_QUERY = "video generation"
SEARCH_PATH = "/search?q=" + SEARCH_QUERY.replace(" ", "+")
CONCURRENCY = (1, 2, 4, 8, 16)  # wrk connections for the search page's load curve


def load_demo(data_dir: Path) -> tuple[str, str, str]:
    """Load the demo corpus; the newest feed day, its most upvoted paper, the search engine."""
    from paperboy.config import Settings
    from paperboy.demo import load_demo as load
    from paperboy.search import open_search
    from paperboy.store import open_store

    settings = Settings.load(data_dir=data_dir)
    store = open_store(settings)
    load(store, settings)
    day = store.latest_day()
    top = store.papers_on(day, limit=1)[0].id
    engine = type(open_search(store, settings)).__name__
    store.close()
    return day.isoformat(), top, engine


def bench_env(**settings: str) -> dict[str, str]:
    """This environment without the caller's PAPERBOY_* settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    return env | settings


def start_server(
    data_dir: Path,
    port: int,
    workers: int,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 20,
) -> subprocess.Popen:
    """`paperboy serve` over `data_dir` (the benches' one start-up), once it answers; its
    output goes to `log` (or nowhere), which an error shows the end of."""
    with open(log, "w") if log else open(os.devnull, "w") as out:
        proc = subprocess.Popen(
            serve_command(data_dir, port, workers),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env if env is not None else bench_env(),
        )

    def said() -> str:
        return log.read_text()[-2000:] if log else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {said()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start: {said()}")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m[1]) * _UNITS[m[2]]


def wrk(url: str, duration: int, connections: int) -> dict:
    """Run wrk once; requests/s, p50 and p99 in ms, and errors (non-2xx/3xx and socket)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)[1])
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)[1])
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non2xx[1]) if non2xx else 0
    total = int(re.search(r"(\d+) requests in", out)[1])
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors, "requests": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--concurrency",
        action="store_true",
        help="also load the search page with 1, 2, 4, 8 and 16 connections",
    )
    parser.add_argument("--no-write", action="store_true", help="don't update docs/benchmarks.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="paperboy-web-load-") as tmp:
        data_dir = Path(tmp)
        day, paper, engine = load_demo(data_dir)
        load_before = os.getloadavg()
        port = free_port()
        server = start_server(data_dir, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        pages = [
            ("daily page", f"/papers/date/{day}", 500),
            ("paper page", f"/papers/{paper}", None),
            ("search page", SEARCH_PATH, 100),
            ("/api/daily_papers", f"/api/daily_papers?date={day}", None),
        ]
        rows, by_connections = [], []
        try:
            for name, path, target in pages:
                assert httpx.get(base + path).status_code == 200, path
                wrk(base + path, 2, args.connections)  # warm-up
                result = wrk(base + path, args.duration, args.connections)
                rows.append((name, path, target, result))
                print(
                    f"{name:<18} {result['rps']:>8.0f} req/s  p50 {result['p50']:6.1f} ms  "
                    f"p99 {result['p99']:6.1f} ms  errors {result['errors']}",
                    flush=True,
                )
            # Closed-loop wrk at 16 connections measures a saturated server: each request waits
            # for the 15 before it. How much search traffic it serves within p99 <= 100 ms is
            # read from fewer connections: the load at which that holds, and its req/s.
            search_url = base + SEARCH_PATH
            for connections in CONCURRENCY if args.concurrency else ():
                result = wrk(search_url, args.duration, connections)
                by_connections.append((connections, result))
                print(
                    f"search page, {connections:>2} connections {result['rps']:>6.0f} req/s  "
                    f"p50 {result['p50']:6.1f} ms  p99 {result['p99']:6.1f} ms",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=20)
        load = os.getloadavg()

    lines = [
        "| page | path | req/s | p50 | p99 | errors | target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, path, target, r in rows:
        wanted = [f">= {target} req/s"] if target else []
        wanted.append("p99 <= 100 ms, 0 errors")
        met = (target is None or r["rps"] >= target) and r["p99"] <= 100 and r["errors"] == 0
        lines.append(
            f"| {name} | `{path}` | {r['rps']:,.0f} | {r['p50']:.1f} ms | "
            f"{r['p99']:.1f} ms | {r['errors']} | {', '.join(wanted)}: "
            f"{'met' if met else '**not met**'} |"
        )
    body = (
        f"`python bench/web_load.py --duration {args.duration} --connections "
        f"{args.connections} --workers {args.workers}"
        f"{' --concurrency' if args.concurrency else ''}`: the production server "
        f"(`paperboy serve --workers {args.workers}`, uvicorn with uvloop and httptools) over "
        "the bundled demo corpus (3,000 real HF daily papers), loaded by `wrk -t1 "
        f"-c{args.connections} -d{args.duration}s --latency` on the same machine (wrk's own CPU "
        f"comes out of the server's). Load average (1 min) before the run {load_before[0]:.2f}, "
        f"after {load[0]:.2f}: other work on the machine competes for the 2 cores.\n\n"
        + "\n".join(lines)
        + "\n\n"
        f"Search engine: `{engine}` (what `paperboy.search.open_search` returned); query "
        f"{SEARCH_QUERY!r}."
    )
    if by_connections:
        within = [r for _, r in by_connections if r["p99"] <= 100 and r["errors"] == 0]
        best = max(within, key=lambda r: r["rps"]) if within else None
        curve = (
            "The search page by load (wrk's connections, each sending its next request when "
            "the last is answered; 16 keeps both workers saturated, so its p99 is mostly "
            "waiting in line):\n\n| connections | req/s | p50 | p99 | errors |\n"
            "|---:|---:|---:|---:|---:|\n"
            + "\n".join(
                f"| {c} | {r['rps']:,.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['errors']} |"
                for c, r in by_connections
            )
            + "\n\n"
            + (
                f"Most search traffic served with p99 <= 100 ms: **{best['rps']:,.0f} req/s** "
                f"(target >= 100: {'met' if best['rps'] >= 100 else '**not met**'})."
                if best
                else "No load kept the search page's p99 within 100 ms: **not met**."
            )
        )
        body += "\n\n" + curve
    print("\n".join(lines))
    if by_connections:
        print(curve)
    if not args.no_write:
        write_section("web_load", "Web load (`bench/web_load.py`)", body)


if __name__ == "__main__":
    main()
