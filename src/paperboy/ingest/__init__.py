"""Bringing papers in: every source's papers arrive through one recorded run loop.

- `runs.py`: `RecordedRun` (begin, batches with the run's checkpoint, finish done/failed, then
  the index update) and `one_index_update` (several runs, one update); the only code that
  triggers an index update;
- `files.py`: `import_file`, the bulk import of JSON-lines files (`paperboy import`).

The upstream runs (harvest, sync, fetch) are in `paperboy/sync.py` and the submissions worker
in `paperboy/submissions.py`; both go through `runs.py`.

    run = import_file(store, "arxiv-metadata.jsonl.gz", settings)
    print(run.summary())   # added 2,400,000, updated 0, unchanged 0, rejected 12
"""

from paperboy.ingest.files import ImportFailed, import_file

__all__ = ["ImportFailed", "import_file"]
