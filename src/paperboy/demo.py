"""The bundled demo corpus: 3,000 real Hugging Face daily papers (2026-02-23 .. 2026-08-21).

`load_demo` imports it into an empty store, so the first start needs no network and no account.
"""

from __future__ import annotations

from importlib import resources

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.store import Run

DEMO_FILE = "demo_papers.jsonl.gz"


def demo_path():
    return resources.files("paperboy.data") / DEMO_FILE


def load_demo(store, settings: Settings) -> Run | None:
    """Import the demo corpus unless the store already holds papers; the run, or None."""
    if store.count_papers():
        return None
    with resources.as_file(demo_path()) as path:
        return import_file(store, path, settings, show_progress=False)
