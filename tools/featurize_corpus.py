"""Teacher outputs for the static model: the bundled transformer's vectors of real paper texts.

Step one of training the bundled static model with tokenlearn's method (step two is
`tools/train_static_model.py`). It reads the real corpora that sit beside the repository in a
development checkout (arXiv cs listings and Hugging Face daily papers; never the SciFact
evaluation corpus), builds the texts the search reads and the texts people type, and encodes
each with the bundled all-MiniLM-L6-v2 ONNX graph: exactly the vectors `search_model = minilm`
gives, mean-pooled and not yet normalised (what tokenlearn calls the mean token embedding).

    .venv/bin/python tools/featurize_corpus.py --data ../shared/data/corpora --out bench/.cache/teacher

Texts, shuffled with a fixed seed so that any prefix of the output is a uniform sample:
- every paper's `title. abstract` (what the index encodes for a paper),
- every title alone, and one sentence of each abstract (query-length texts).
Output: `shard_NNNNN.json` (2,048 texts) and `shard_NNNNN.npy` (their vectors, float16); a rerun skips
the shards already written, so the job resumes after an interruption. On 2 busy cores this runs
for a few hours; start it in the background (`nice`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

SHARD = 2048
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def corpus_texts(data: Path, seed: int = 13) -> list[str]:
    """The training texts, deduplicated by paper id and shuffled with `seed`."""
    papers: dict[str, tuple[str, str]] = {}
    with gzip.open(data / "arxiv_cs_listings.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            papers[row["id"]] = (_clean(row.get("title")), _clean(row.get("summary")))
    with gzip.open(data / "hf_daily_papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            paper = json.loads(line).get("paper") or {}
            if paper.get("id") and paper["id"] not in papers:
                papers[paper["id"]] = (_clean(paper.get("title")), _clean(paper.get("summary")))
    rng = random.Random(seed)
    texts: list[str] = []
    for pid in sorted(papers):
        title, abstract = papers[pid]
        if not title and not abstract:
            continue
        texts.append(f"{title}. {abstract}".strip())
        if title:
            texts.append(title)
        sentences = [s for s in _SENTENCE.split(abstract) if 20 <= len(s) <= 300]
        if sentences:
            texts.append(rng.choice(sentences))
    rng.shuffle(texts)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the corpora")
    parser.add_argument("--out", type=Path, required=True, help="folder for the shards")
    parser.add_argument("--limit", type=int, default=0, help="encode at most this many texts")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all)")
    args = parser.parse_args()

    from paperboy.search.encoders import load_encoder

    texts = corpus_texts(args.data)
    if args.limit:
        texts = texts[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder("minilm", threads=args.threads)
    shards = range(0, len(texts), SHARD)
    print(f"{len(texts):,} texts in {len(shards)} shards -> {args.out}", flush=True)
    started, done = time.monotonic(), 0
    for number, start in enumerate(shards):
        path = args.out / f"shard_{number:05d}.npy"
        if path.exists():
            continue
        chunk = texts[start : start + SHARD]
        vectors = encoder.mean_pooled(chunk)
        path.with_suffix(".json").write_text(json.dumps(chunk))
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors.astype(np.float16))
        tmp.replace(path)  # the vectors land last: a shard with its .npy is complete
        done += len(chunk)
        rate = done / (time.monotonic() - started)
        print(f"shard {number + 1}/{len(shards)}: {rate:.1f} texts/s", flush=True)
    print("done", file=sys.stderr)


if __name__ == "__main__":
    main()
