"""The bundled demo corpus: 3,000 real Hugging Face daily papers (2026-02-23 .. 2026-08-21).

`load_demo` imports it into an empty store (one recorded run, then one index update), so the
first start needs no network and no account. Its transformer vectors ship beside it
(`demo_vectors.npz`, made by tools/make_demo_vectors.py) and go into the index before that
update, so the search index is ready in seconds instead of minutes.
"""

from __future__ import annotations

from importlib import resources

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.ingest.runs import one_index_update
from paperboy.store import Run

DEMO_FILE = "demo_papers.jsonl.gz"
DEMO_VECTORS = "demo_vectors.npz"
DEMO_VECTORS_MODEL = "minilm"


def demo_path():
    return resources.files("paperboy.data") / DEMO_FILE


def load_demo(store, settings: Settings) -> Run | None:
    """Import the demo corpus unless the store already holds papers; the run, or None."""
    if store.count_papers():
        return None
    # One index update, after the shipped vectors are in: it then encodes none of them.
    with one_index_update(store, settings), resources.as_file(demo_path()) as path:
        run = import_file(store, path, settings, show_progress=False)
        seed_demo_vectors(store, settings)
    return run


def seed_demo_vectors(store, settings: Settings) -> int:
    """Put the shipped demo vectors into the vector index (when the model matches), holding
    the index writers' lock as every index writer does (another process may be updating)."""
    import numpy as np

    from paperboy.search.upkeep import indexes_lock, open_indexes

    source = resources.files("paperboy.data") / DEMO_VECTORS
    if settings.search_model != DEMO_VECTORS_MODEL or not source.is_file():
        return 0
    with indexes_lock(store, settings), resources.as_file(source) as path, np.load(path) as data:
        indexes = open_indexes(store, settings)
        if indexes.passages is not None:
            indexes.passages.put_quantized(
                list(data["passage_ids"]), data["passage_codes"], data["passage_scales"], None
            )
            indexes.passages.save()
        indexes.dense.put_quantized(
            list(data["ids"]), data["codes"], data["scales"], data["hashes"]
        )
        indexes.dense.save()
        return len(data["ids"])
