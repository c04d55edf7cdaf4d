"""Runs that bring papers into the store: batches, checkpoints, rejections, progress, summary.

Every source ends here. A batch of papers, the run's checkpoint (where to resume) and the
batch's rejected records commit in one transaction, so `kill -9` at any moment followed by the
same command resumes after the last committed batch: nothing lost, nothing counted twice.

A run always ends as "done" or "failed", never left "running" by an error: an error or Ctrl-C
marks it failed with a message naming the file and lines, and the same command resumes it
from its last committed batch. An import that stored nothing because every record was rejected
ends "failed" too.
"""

from __future__ import annotations

import time
from pathlib import Path

from paperboy.config import Settings
from paperboy.progress import Progress
from paperboy.sources import SourceError
from paperboy.sources.files import file_fingerprint, read_file
from paperboy.store import Run


class ImportFailed(SourceError):
    """An import stopped by an error; what was stored before it stays, and a rerun resumes."""


def import_file(store, path: str | Path, settings: Settings, show_progress: bool = True) -> Run:
    """Bulk-load a JSON-lines (or JSON array) file; a rerun after a crash or error resumes it."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file; give the path of a .jsonl, .jsonl.gz or .json file")
    run = store.begin_run("import", str(path), file_fingerprint(path), resume_failed=True)
    try:
        _read_into(store, run, path, settings, show_progress)
    except SourceError:
        raise  # a read error: the run is already marked failed, with where it stopped
    except KeyboardInterrupt:
        _mark_failed(store, run, f"{path}: interrupted after line {_done_line(run)}")
        raise
    except Exception as exc:
        first = _done_line(run) + 1
        message = (f"{path}: the import stopped at a batch starting at line {first} "
                   f"({type(exc).__name__}: {exc})")
        _mark_failed(store, run, message)
        raise ImportFailed(f"{message}; lines before {first} are stored. Run the same command "
                           "again to resume there.") from exc
    if run.rejected and not (run.added + run.updated + run.unchanged):
        store.finish_run(run, "failed", f"{path}: every record was rejected; nothing stored")
    else:
        store.finish_run(run, "done")
    return run


def _read_into(store, run: Run, path: Path, settings: Settings, show_progress: bool) -> None:
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
        except SourceError as exc:  # a file paperboy cannot read at all (UTF-16, not JSON)
            store.finish_run(run, "failed", str(exc))
            raise
        bar.set_position(size, run.added + run.updated + run.unchanged)


def _done_line(run: Run) -> int:
    """The last line of the file whose batch is committed."""
    return (run.checkpoint or {}).get("line", 0)


def _mark_failed(store, run: Run, message: str) -> None:
    try:
        store.finish_run(run, "failed", message)
    except Exception:  # noqa: BLE001  the store itself may be what failed; the run stays "running"
        pass


def _flush(store, run: Run, batch, rejected, line, settings: Settings) -> None:
    saved = (run.added, run.updated, run.unchanged, run.rejected, run.checkpoint)
    try:
        store.upsert(batch, run=run, checkpoint={"line": line.number, "offset": line.end_offset},
                     rejections=rejected)
    except BaseException:
        # The transaction rolled back: so must the run's counts and checkpoint, or marking it
        # failed would save a checkpoint past lines that were never stored.
        run.added, run.updated, run.unchanged, run.rejected, run.checkpoint = saved
        raise
    if settings.import_pause:
        time.sleep(settings.import_pause)
