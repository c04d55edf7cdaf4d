"""What the paper pages show beside the paper (issue #14): small repositories over the store.

Each class wraps a store (`SQLiteStore` or `PostgresStore`) and speaks SQL both backends run,
through the store's own connection helpers (`store.conn` for reads, `store.transaction()` for one
transaction). The tables come from migration 0012.

    Summaries(store).of(["2405.15738"])          # {"2405.15738": "One line, machine-written"}
    Stars(store).record({"owner/repo": 1200}, day, "github")
    Stars(store).of_papers(papers)               # {paper id: StarCount(stars, per_day, day)}
    Thumbnails(store).pending(limit=100)         # paper ids still without a first-page image
    Keywords(store).extracted(["2405.15738"])    # keywords found offline (search/keywords.py)

Hugging Face's `ai_summary` and `githubStars` arrive on `Paper` (fields `ai_summary`,
`github_stars`); `record_upstream` keeps them in the transaction that upserts the papers, so a
batch and its summaries and star counts commit together. They are not read back into `Paper`:
ask these classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from paperboy.store.chunks import in_chunks
from paperboy.store.connection import Connection

if TYPE_CHECKING:
    from paperboy.papers import Paper
    from paperboy.store.sql import SQLStore

STAR_WINDOW_DAYS = 7  # growth is measured over the counts of the last week
_GITHUB = re.compile(
    r"^https?://(?:www\.)?github\.com/([A-Za-z0-9_.-]{1,100})/"
    r"([A-Za-z0-9_.-]{1,100})/?$",
    re.IGNORECASE,
)


def github_repo(url: str | None) -> str | None:
    """'owner/name' (lower case) for a github.com repository URL, else None.

    >>> github_repo("https://github.com/Owner/Repo")
    'owner/repo'
    """
    m = _GITHUB.match(url or "")
    if not m or m[1] in (".", "..") or m[2].lower().removesuffix(".git") in ("", ".", ".."):
        return None  # "..": the API URL built from it would name another endpoint
    return f"{m[1]}/{m[2].removesuffix('.git')}".lower()


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_upstream(conn: Connection, papers: Iterable[Paper], day: date | None = None) -> None:
    """Keep the summaries and star counts that came with `papers` (inside the caller's
    transaction: `SQLStore.upsert`). Star counts are dated `day` (default: today, UTC)."""
    summaries: list[tuple[str, str, str]] = []
    stars: dict[str, int] = {}
    for paper in papers:
        if paper.ai_summary:
            summaries.append((paper.id, paper.ai_summary, "hf"))
        repo = github_repo(paper.code_url)
        if repo and paper.github_stars is not None:
            stars[repo] = paper.github_stars
    if summaries:
        conn.executemany(
            "INSERT INTO paper_summaries (paper_id, summary, source) VALUES (?, ?, ?) "
            "ON CONFLICT (paper_id) DO UPDATE SET summary = excluded.summary, "
            "source = excluded.source",
            summaries,
        )
    if stars:
        _insert_stars(conn, stars, day or datetime.now(UTC).date(), "hf")


def _insert_stars(conn: Connection, counts: dict[str, int], day: date, source: str) -> None:
    # A count read from GitHub itself is never replaced by Hugging Face's copy of the same day.
    conn.executemany(
        "INSERT INTO star_counts (repo, day, stars, source) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (repo, day) DO UPDATE SET stars = excluded.stars, source = excluded.source "
        "WHERE star_counts.source = 'hf' OR excluded.source = 'github'",
        [(repo, day.isoformat(), int(n), source) for repo, n in counts.items()],
    )


class Summaries:
    """One-line machine-written summaries (Hugging Face's `ai_summary`)."""

    def __init__(self, store: SQLStore):
        self.store = store

    def of(self, ids: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(list(ids)):
            found.update(
                self.store.conn.execute(
                    f"SELECT paper_id, summary FROM paper_summaries WHERE paper_id IN ({marks})",
                    chunk,
                ).fetchall()
            )
        return found


class Keywords:
    """Keywords extracted offline for papers that came without any (search/keywords.py)."""

    def __init__(self, store: SQLStore):
        self.store = store

    def extracted(self, ids: Iterable[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for chunk, marks in in_chunks(list(ids)):
            for pid, words in self.store.conn.execute(
                f"SELECT paper_id, keywords FROM extracted_keywords WHERE paper_id IN ({marks})",
                chunk,
            ).fetchall():
                found[pid] = json.loads(words)
        return found

    def save(self, found: dict[str, list[str]], model: str) -> None:
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO extracted_keywords (paper_id, keywords, model) VALUES (?, ?, ?) "
                "ON CONFLICT (paper_id) DO UPDATE SET keywords = excluded.keywords, "
                "model = excluded.model",
                [
                    (pid, json.dumps(words, ensure_ascii=False), model)
                    for pid, words in found.items()
                ],
            )

    def missing(self, limit: int) -> list[tuple[str, str, str]]:
        """(id, title, abstract) of feed papers with neither upstream nor extracted keywords,
        newest feed day first."""
        return [
            tuple(row)
            for row in self.store.conn.execute(
                "SELECT p.id, p.title, p.abstract FROM papers p "
                "JOIN feed_entries e ON e.paper_id = p.id "
                "LEFT JOIN extracted_keywords k ON k.paper_id = p.id "
                "WHERE p.keywords = '[]' AND k.paper_id IS NULL "
                "ORDER BY e.day DESC, p.id LIMIT ?",
                (limit,),
            ).fetchall()
        ]


@dataclass(frozen=True)
class StarCount:
    """A repository's latest star count, the day it was read, and its growth per day over
    the counts of the `STAR_WINDOW_DAYS` before that (0.0 with one count only)."""

    repo: str
    stars: int
    day: date
    per_day: float = 0.0


class Stars:
    """GitHub star counts per repository and day: the history that gives growth."""

    def __init__(self, store: SQLStore):
        self.store = store

    def record(self, counts: dict[str, int], day: date, source: str = "github") -> None:
        if counts:
            with self.store.transaction() as conn:
                _insert_stars(conn, counts, day, source)

    def history(self, repo: str) -> list[tuple[date, int, str]]:
        return [
            (_day(d), n, s)
            for d, n, s in self.store.conn.execute(
                "SELECT day, stars, source FROM star_counts WHERE repo = ? ORDER BY day", (repo,)
            ).fetchall()
        ]

    def of_repos(self, repos: Iterable[str]) -> dict[str, StarCount]:
        rows: dict[str, list[tuple[date, int]]] = {}
        for chunk, marks in in_chunks(sorted(set(repos))):
            latest = self.store.conn.execute(
                f"SELECT repo, max(day) FROM star_counts WHERE repo IN ({marks}) GROUP BY repo",
                chunk,
            ).fetchall()
            if not latest:
                continue
            since = max(_day(d) for _, d in latest) - timedelta(days=STAR_WINDOW_DAYS)
            for repo, d, n in self.store.conn.execute(
                f"SELECT repo, day, stars FROM star_counts WHERE repo IN ({marks}) "
                "AND day >= ? ORDER BY repo, day",
                [*chunk, since.isoformat()],
            ).fetchall():
                rows.setdefault(repo, []).append((_day(d), n))
            for repo, d in latest:  # a repository read only long ago: its last count
                if repo not in rows:
                    rows[repo] = [(_day(d), self._count_on(repo, d))]
        return {repo: _growth(repo, counts) for repo, counts in rows.items()}

    def _count_on(self, repo: str, day: Any) -> int:
        # `day` exactly as the driver returned it (text on SQLite, a date on PostgreSQL)
        return int(
            self.store.conn.execute(
                "SELECT stars FROM star_counts WHERE repo = ? AND day = ?", (repo, day)
            ).fetchone()[0]
        )

    def of_papers(self, papers: Iterable[Paper]) -> dict[str, StarCount]:
        """{paper id: its code repository's StarCount} for papers linking a GitHub repo."""
        repo_of = {p.id: github_repo(p.code_url) for p in papers}
        counts = self.of_repos(r for r in repo_of.values() if r)
        return {pid: counts[r] for pid, r in repo_of.items() if r in counts}

    def repos_to_read(self, day: date, limit: int) -> list[str]:
        """GitHub repositories linked from feed papers and not read from GitHub on `day`,
        those of the newest feed days first (their growth is what trending weighs)."""
        seen, found = set(), []
        read = {
            r
            for (r,) in self.store.conn.execute(
                "SELECT repo FROM star_counts WHERE day = ? AND source = 'github'",
                (day.isoformat(),),
            ).fetchall()
        }
        for (url,) in self.store.conn.execute(
            "SELECT p.code_url FROM papers p JOIN feed_entries e ON e.paper_id = p.id "
            "WHERE p.code_url LIKE '%github.com/%' ORDER BY e.day DESC, p.id"
        ).fetchall():
            repo = github_repo(url)
            if repo and repo not in seen and repo not in read:
                seen.add(repo)
                found.append(repo)
                if len(found) >= limit:
                    break
        return found


def _growth(repo: str, counts: list[tuple[date, int]]) -> StarCount:
    last_day, last = counts[-1]
    first_day, first = next(
        (d, n) for d, n in counts if d >= last_day - timedelta(days=STAR_WINDOW_DAYS)
    )
    days = (last_day - first_day).days
    return StarCount(repo, last, last_day, (last - first) / days if days else 0.0)


@dataclass(frozen=True)
class Thumbnail:
    paper_id: str
    status: str  # done or failed
    file: str | None
    bytes: int | None
    reason: str | None


class Thumbnails:
    """Which papers have a first-page image (a file under data_dir/thumbnails), and which
    failed and why. The files themselves are written by paperboy/thumbnails.py."""

    def __init__(self, store: SQLStore):
        self.store = store

    def pending(
        self, limit: int, every_paper: bool = False, retry_failed: bool = False
    ) -> list[str]:
        """Paper ids without a thumbnail, newest feed day first; papers outside the feed only
        with `every_paper`; ones that failed before only with `retry_failed`."""
        join = "LEFT JOIN" if every_paper else "JOIN"
        failed = " OR t.status = 'failed'" if retry_failed else ""
        return [
            r[0]
            for r in self.store.conn.execute(
                f"SELECT p.id FROM papers p {join} feed_entries e ON e.paper_id = p.id "
                "LEFT JOIN thumbnails t ON t.paper_id = p.id "
                f"WHERE (t.paper_id IS NULL{failed}) "
                "ORDER BY CASE WHEN e.day IS NULL THEN 1 ELSE 0 END, e.day DESC, p.id LIMIT ?",
                (limit,),
            ).fetchall()
        ]

    def count_pending(self, every_paper: bool = False, retry_failed: bool = False) -> int:
        join = "LEFT JOIN" if every_paper else "JOIN"
        failed = " OR t.status = 'failed'" if retry_failed else ""
        return int(
            self.store.conn.execute(
                f"SELECT count(*) FROM papers p {join} feed_entries e ON e.paper_id = p.id "
                f"LEFT JOIN thumbnails t ON t.paper_id = p.id WHERE (t.paper_id IS NULL{failed})"
            ).fetchone()[0]
        )

    def _save(self, row: tuple[str, str, str | None, int | None, str | None, str]) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO thumbnails (paper_id, status, file, bytes, reason, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (paper_id) DO UPDATE SET "
                "status = excluded.status, file = excluded.file, bytes = excluded.bytes, "
                "reason = excluded.reason, updated_at = excluded.updated_at",
                row,
            )

    def record_done(self, paper_id: str, file: str, size: int) -> None:
        self._save((paper_id, "done", file, size, None, _now()))

    def record_failed(self, paper_id: str, reason: str) -> None:
        self._save((paper_id, "failed", None, None, reason[:1000], _now()))

    def get(self, paper_id: str) -> Thumbnail | None:
        row = self.store.conn.execute(
            "SELECT paper_id, status, file, bytes, reason FROM thumbnails WHERE paper_id = ?",
            (paper_id,),
        ).fetchone()
        return Thumbnail(*row) if row else None

    def files(self, ids: Iterable[str]) -> dict[str, str]:
        """{paper id: file name} for the papers among `ids` that have a thumbnail."""
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(list(ids)):
            found.update(
                self.store.conn.execute(
                    f"SELECT paper_id, file FROM thumbnails WHERE status = 'done' "
                    f"AND paper_id IN ({marks})",
                    chunk,
                ).fetchall()
            )
        return found

    def totals(self) -> dict[str, tuple[int, int]]:
        """{status: (papers, bytes)}."""
        return {
            s: (n, b or 0)
            for s, n, b in self.store.conn.execute(
                "SELECT status, count(*), sum(bytes) FROM thumbnails GROUP BY status"
            ).fetchall()
        }
