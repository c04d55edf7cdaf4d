"""Compute the demo corpus's transformer vectors once: src/paperboy/data/demo_vectors.npz.

    .venv/bin/python tools/make_demo_vectors.py      # about a minute on 2 cores

It imports the bundled demo corpus into a temporary store (so the texts are exactly what
paperboy stores), encodes each paper with the default model and saves ids, int8 codes,
scales and text hashes, and the same for its passages (see index.py). `paperboy demo` loads them instead of encoding 3,000 abstracts.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from paperboy.config import Settings
from paperboy.demo import DEMO_VECTORS, DEMO_VECTORS_MODEL, demo_path
from paperboy.ingest import import_file
from paperboy.search.encoders import load_encoder
from paperboy.search.files.vectors import quantize
from paperboy.search.updater import MAX_PASSAGES, paper_text, passage_id, text_hash
from paperboy.store import open_store

OUT = Path(__file__).resolve().parent.parent / "src/paperboy/data" / DEMO_VECTORS


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(data_dir=tmp)
        store = open_store(settings)
        import_file(store, Path(str(demo_path())), settings, show_progress=False)
        papers = list(store.iter_papers())
    texts = [paper_text(p) for p in papers]
    started = time.monotonic()
    encoder = load_encoder(DEMO_VECTORS_MODEL)
    # The same runs the index makes (index.py): paper and passage vectors together.
    vectors, passages, owners = encoder.encode_with_passages(texts, max_passages=MAX_PASSAGES)
    codes, scales = quantize(vectors)
    passage_codes, passage_scales = quantize(passages)
    counts: dict[int, int] = {}
    passage_ids = []
    for owner in owners:
        counts[owner] = counts.get(owner, -1) + 1
        passage_ids.append(passage_id(papers[owner].id, counts[owner]))
    np.savez_compressed(
        OUT,
        ids=np.array([p.id for p in papers]),
        codes=codes,
        scales=scales,
        hashes=np.array([text_hash(t) for t in texts], dtype=np.int64),
        passage_ids=np.array(passage_ids),
        passage_codes=passage_codes,
        passage_scales=passage_scales,
    )
    print(
        f"{len(papers)} papers in {time.monotonic() - started:.0f}s -> {OUT} "
        f"({OUT.stat().st_size:,} bytes)"
    )


if __name__ == "__main__":
    main()
