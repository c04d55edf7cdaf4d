"""Importing a file (`paperboy import`): batches, checkpoints, rejections, progress, summary.

An import is a recorded run (ingest/runs.py, the run loop every source uses): a batch of
papers, the run's checkpoint (where to resume) and the batch's rejected records commit in one
transaction, so `kill -9` at any moment followed by the same command resumes after the last
committed batch: nothing lost, nothing counted twice. The run updates the search indexes as
it ends.

A run always ends as "done" or "failed", never left "running" by an error: an error or Ctrl-C
marks it failed with a message naming the file and lines, and the same command resumes it
from its last committed batch. An import that stored nothing because every record was rejected
ends "failed" too.
"""

from __future__ import annotations

import time
from pathlib import Path

from paperboy.config import Settings
from paperboy.ingest.runs import RecordedRun
from paperboy.progress import Progress
from paperboy.sources import SourceError
from paperboy.sources.files import file_fingerprint, read_file
from paperboy.store import Run


class ImportFailed(SourceError):
    """An import stopped by an error; what was stored before it stays, and a rerun resumes."""


def import_file(
    store, path: str | Path, settings: Settings, show_progress: bool = True, index: bool = True
) -> Run:
    """Bulk-load a JSON-lines (or JSON array) file; a rerun after a crash or error resumes it.
    `index=False` leaves the index update to the caller (benchmarks timing the steps apart)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(
            f"{path}: no such file; give the path of a .jsonl, .jsonl.gz or .json file"
        )
    with RecordedRun(
        store,
        settings,
        "import",
        str(path),
        file_fingerprint(path),
        resume_failed=True,
        index=index,
    ) as recorded:
        run = recorded.run
        try:
            _read_into(recorded, path, settings, show_progress)
        except SourceError:
            raise  # a read error: the run is already marked failed, with where it stopped
        except KeyboardInterrupt:
            recorded.fail(f"{path}: interrupted after line {_done_line(run)}")
            raise
        except Exception as exc:
            first = _done_line(run) + 1
            message = (
                f"{path}: the import stopped at a batch starting at line {first} "
                f"({type(exc).__name__}: {exc})"
            )
            recorded.fail(message)
            raise ImportFailed(
                f"{message}; lines before {first} are stored. Run the same "
                "command again to resume there."
            ) from exc
        if run.rejected and not recorded.stored:
            recorded.fail(f"{path}: every record was rejected; nothing stored")
    return run


def _read_into(recorded: RecordedRun, path: Path, settings: Settings, show_progress: bool) -> None:
    run = recorded.run
    checkpoint = recorded.checkpoint
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
                    _flush(recorded, batch, rejected, line, settings)
                    batch, rejected = [], []
                    if line.position:
                        bar.set_position(line.position, recorded.stored)
            if last is not None:
                _flush(recorded, batch, rejected, last, settings)
        except (OSError, EOFError) as exc:
            # A truncated gzip or a disk error: store what was read, then say where it stopped.
            if last is not None:
                _flush(recorded, batch, rejected, last, settings)
            where = f" after line {last.number}" if last else ""
            recorded.fail(f"{path}: read error{where}: {exc}")
            raise SourceError(
                f"{path}: cannot read past line {last.number if last else 0} ({exc}); "
                "everything before it is stored. Fix or re-download the file and run the "
                "same command again."
            ) from None
        except SourceError as exc:  # a file paperboy cannot read at all (UTF-16, not JSON)
            recorded.fail(str(exc))
            raise
        bar.set_position(size, run.added + run.updated + run.unchanged)


def _done_line(run: Run) -> int:
    """The last line of the file whose batch is committed."""
    return (run.checkpoint or {}).get("line", 0)


def _flush(recorded: RecordedRun, batch, rejected, line, settings: Settings) -> None:
    recorded.write(batch, rejected, checkpoint={"line": line.number, "offset": line.end_offset})
    if settings.import_pause:
        time.sleep(settings.import_pause)
