"""Shared set-up for the search tests: a real store loaded with 300 real papers."""

from pathlib import Path

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.store import open_store

FIXTURE = Path(__file__).parent / "fixtures" / "search_papers.jsonl"


def make_store(tmp_path, **overrides):
    """A store holding the fixture papers and settings that use the fast static model."""
    values = {
        "search_model": "static",
        "search_bulk_model": "",
        "search_passages": True,
    } | overrides
    settings = Settings.load(data_dir=tmp_path / "data", **values)
    store = open_store(settings)
    import_file(store, FIXTURE, settings, show_progress=False, index=False)
    return store, settings
