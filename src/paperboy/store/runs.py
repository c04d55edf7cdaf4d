"""The runs repository: each import, sync or harvest as a recorded run, resumable.

    run = store.run_log.begin_run("import", path, fingerprint)  # or the unfinished one again
    store.papers.upsert(batch, run=run, checkpoint=where)        # counts saved with each batch
    store.run_log.finish_run(run); store.run_log.latest(20)

A run's counts, checkpoint and rejections are saved in the transaction of the batch that made
them (papers.py calls `save` and `record_rejections`), so a crash never leaves a checkpoint
ahead of the data or a rejection counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from paperboy.store import Run
from paperboy.store.connection import Connection
from paperboy.store.rows import now_iso

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

MAX_REJECTIONS_KEPT = 1000  # per run; the count stays exact beyond it


class Runs:
    """Imports, syncs and harvests as recorded runs: `store.run_log.begin_run(...)` and so on."""

    def __init__(self, db: SQLStore):
        self.db = db

    def begin_run(
        self, kind: str, source: str, fingerprint: str, resume_failed: bool = False
    ) -> Run:
        """Start a run, or resume the unfinished one with the same fingerprint (after a crash;
        with `resume_failed`, also after an error or Ctrl-C marked it failed)."""
        statuses = "('running', 'failed')" if resume_failed else "('running')"
        with self.db.transaction() as conn:
            self.db._lock_papers(conn)
            # A failed run is resumed only while it is the latest with this fingerprint.
            latest = (
                ""
                if not resume_failed
                else ("AND id = (SELECT max(id) FROM import_runs WHERE fingerprint = ?) ")
            )
            row = conn.execute(
                "SELECT id, added, updated, unchanged, rejected, checkpoint FROM import_runs "
                f"WHERE fingerprint = ? AND status IN {statuses} {latest}"
                "ORDER BY id DESC LIMIT 1",
                (fingerprint, fingerprint) if resume_failed else (fingerprint,),
            ).fetchone()
            if row:
                rid, added, updated, unchanged, rejected, checkpoint = row
                return Run(
                    rid,
                    kind,
                    source,
                    fingerprint,
                    added,
                    updated,
                    unchanged,
                    rejected,
                    json.loads(checkpoint) if checkpoint else None,
                    resumed=True,
                )
            rid = conn.execute(
                "INSERT INTO import_runs (kind, source, fingerprint, status, started_at) "
                "VALUES (?, ?, ?, 'running', ?) RETURNING id",
                (kind, source, fingerprint, now_iso()),
            ).fetchone()[0]
            return Run(rid, kind, source, fingerprint)

    def save(self, conn: Connection, run: Run) -> None:
        conn.execute(
            "UPDATE import_runs SET added = ?, updated = ?, unchanged = ?, rejected = ?, "
            "checkpoint = ?, status = ?, message = ?, finished_at = ? WHERE id = ?",
            (
                run.added,
                run.updated,
                run.unchanged,
                run.rejected,
                json.dumps(run.checkpoint) if run.checkpoint is not None else None,
                run.status,
                run.message,
                None if run.status == "running" else now_iso(),
                run.id,
            ),
        )

    def record_rejections(
        self, conn: Connection, run: Run, rejections: Sequence[tuple[str, str]]
    ) -> None:
        """Keep the first MAX_REJECTIONS_KEPT reasons of a run; the count stays exact."""
        if not rejections:
            return
        room = max(0, MAX_REJECTIONS_KEPT - run.rejected)
        conn.executemany(
            "INSERT INTO rejections (run_id, location, reason) VALUES (?, ?, ?)",
            [(run.id, loc, reason) for loc, reason in rejections[:room]],
        )
        run.rejected += len(rejections)

    def finish_run(self, run: Run, status: str = "done", message: str | None = None) -> None:
        run.status, run.message = status, message
        with self.db.transaction() as conn:
            self.save(conn, run)

    def rejections(self, run_id: int, limit: int = 20) -> list[tuple[str, str]]:
        return self.db.conn.execute(
            "SELECT location, reason FROM rejections WHERE run_id = ? ORDER BY id LIMIT ?",
            (run_id, limit),
        ).fetchall()

    def latest(self, limit: int = 20) -> list[dict[str, Any]]:
        cur = self.db.conn.execute(
            "SELECT id, kind, source, status, started_at, finished_at, added, updated, unchanged, "
            "rejected, message FROM import_runs ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
