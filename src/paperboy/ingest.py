"""Runs that bring papers into the store: batches, checkpoints, rejections, progress, summary.

Every source ends here. A batch of papers, the run's checkpoint (where to resume) and the
batch's rejected records commit in one transaction, so `kill -9` at any moment followed by the
same command resumes after the last committed batch: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import time
from pathlib import Path

from paperboy.config import Settings
from paperboy.progress import Progress
from paperboy.sources import SourceError
from paperboy.sources.files import file_fingerprint, read_file
from paperboy.store import Run


def import_file(store, path: str | Path, settings: Settings, show_progress: bool = True) -> Run:
    """Bulk-load a JSON-lines (or JSON array) file; a rerun after a crash resumes it."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file; give the path of a .jsonl, .jsonl.gz or .json file")
    run = store.begin_run("import", str(path), file_fingerprint(path))
    checkpoint = run.checkpoint or {}
    batch, rejected = [], []
    last = None
    size = path.stat().st_size
    with Progress(f"import {path.name}", total=size, unit="B", enabled=show_progress) as bar:
        try:
            for line in read_file(path, checkpoint.get("line", 0), checkpoint.get("offset", 0)):
                last = line
                if line.error:
                    rejected.append((f"{path}:{line.number}", line.error))
                else:
                    batch.append(line.paper)
                if len(batch) + len(rejected) >= settings.import_batch_size:
                    _flush(store, run, batch, rejected, line, settings)
                    batch, rejected = [], []
                    if line.position:
                        bar.set_position(line.position, run.added + run.updated + run.unchanged)
            if last is not None:
                _flush(store, run, batch, rejected, last, settings)
        except (OSError, EOFError) as exc:
            # A truncated gzip or a disk error: store what was read, then say where it stopped.
            if last is not None:
                _flush(store, run, batch, rejected, last, settings)
            where = f" after line {last.number}" if last else ""
            store.finish_run(run, "failed", f"{path}: read error{where}: {exc}")
            raise SourceError(
                f"{path}: cannot read past line {last.number if last else 0} ({exc}); "
                "everything before it is stored. Fix or re-download the file and run the "
                "same command again."
            ) from None
        bar.set_position(size, run.added + run.updated + run.unchanged)
    store.finish_run(run, "done")
    return run


def _flush(store, run: Run, batch, rejected, line, settings: Settings) -> None:
    store.upsert(batch, run=run, checkpoint={"line": line.number, "offset": line.end_offset},
                 rejections=rejected)
    if settings.import_pause:
        time.sleep(settings.import_pause)
