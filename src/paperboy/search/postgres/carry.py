"""Moving an embedded deployment's vectors into PostgreSQL (`paperboy migrate-store`).

    copied = carry_vectors(data_dir, pg_store, settings)   # {model: rows}

The one place that reads one backend to fill the other: it opens the vector files of
search/files/ and writes the tables of search/postgres/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paperboy.config import Settings
from paperboy.search.files.indexes import vectors_folder
from paperboy.search.files.vectors import VectorIndex, dequantize
from paperboy.search.postgres.indexes import PgSearchIndexes
from paperboy.search.postgres.tables import PgVectors
from paperboy.store.postgres import PostgresStore

BATCH = 5000  # rows copied per statement


def carry_vectors(
    data_dir: Path | str,
    store: PostgresStore,
    settings: Settings,
    on_progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy the vector files of an embedded deployment (`data_dir/index/vectors/`) into the
    PostgreSQL tables, so moving to PostgreSQL does not mean encoding every paper again
    (hours with the transformer). Each model's watermark comes along (the papers' `seq`
    values are copied unchanged by migrate-store), so the updater then adds only what is
    newer. Idempotent: a rerun after an interruption puts the same rows again. Returns the
    rows copied per model; the keyword index is rebuilt from the store (no model needed)."""
    tables = PgSearchIndexes(store, settings)
    targets: list[PgVectors] = [tables.dense] + [
        v for v in (tables.bulk, tables.passages) if v is not None
    ]
    copied = {}
    for target in targets:
        folder = vectors_folder(Path(data_dir) / "index", target.model)
        source = (
            VectorIndex.open(folder, target.dim, target.model)
            if (folder / "meta.json").exists()
            else None
        )
        if source is None or not len(source):
            continue
        ids = [pid for pid in source.ids if pid in source]
        for start in range(0, len(ids), BATCH):
            part = ids[start : start + BATCH]
            rows = [source.row[pid] for pid in part]
            target.put(
                part, dequantize(source.codes[rows], source.scales[rows]), source.hashes[rows]
            )
            if on_progress:
                on_progress(target.model, start + len(part))
        target.save(watermark=source.watermark if not target.model.endswith("#passages") else None)
        copied[target.model] = len(ids)
    return copied
