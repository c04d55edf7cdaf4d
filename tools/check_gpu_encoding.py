"""Check the GPU path: the bundled transformer on CUDA gives the vectors the CPU gives.

    pip install onnxruntime-gpu      # in place of onnxruntime, on a machine with an NVIDIA GPU
    .venv/bin/python tools/check_gpu_encoding.py --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz

Encodes a fixed sample of real abstracts (paper vectors and passages, as the backfill does) on
the GPU (float graph, 64 texts a batch) and on the CPU with the float graph and with the int8
graph the CPU uses by default, and prints the lowest and mean cosines and the speeds. It exits
1 when the GPU's vectors differ from the CPU float graph's (any cosine below 0.999) or from
the CPU default's by more than the int8 graph does anyway (any below 0.98). Without a GPU it
stops at the first line with the reason.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from paperboy.search.encoders import EncoderError, load_encoder


def sample(path: Path, size: int) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    random.Random(7).shuffle(rows)
    return [f"{r.get('title') or ''}. {r.get('summary') or ''}".strip() for r in rows[:size]]


def encode(encoder, texts):
    began = time.perf_counter()
    vectors, passages, owners = encoder.encode_with_passages(texts)
    return vectors, passages, owners, len(texts) / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=1000)
    args = parser.parse_args()
    try:
        gpu = load_encoder("minilm", device="cuda")
    except EncoderError as exc:
        print(exc)
        return 1
    texts = sample(args.corpus, args.sample)
    encode(gpu, texts[:64])  # warm-up: CUDA kernels, memory arena
    on_gpu = encode(gpu, texts)
    cpu_float = encode(load_encoder("minilm", precision="float"), texts)
    cpu_int8 = encode(load_encoder("minilm"), texts)
    ok = True
    for label, cpu, floor in (
        ("CPU float graph", cpu_float, 0.999),
        ("CPU int8 graph (the default)", cpu_int8, 0.98),
    ):
        same_owners = np.array_equal(on_gpu[2], cpu[2])
        papers = (on_gpu[0] * cpu[0]).sum(axis=1)
        passages = (on_gpu[1] * cpu[1]).sum(axis=1) if same_owners else np.zeros(1)
        print(
            f"GPU vs {label}: papers cosine min {papers.min():.5f} mean {papers.mean():.5f}; "
            f"passages min {passages.min():.5f}; same passages: {same_owners}"
        )
        ok &= same_owners and papers.min() >= floor and passages.min() >= floor
    print(
        f"papers/s with passages: GPU {on_gpu[3]:.0f}, CPU float {cpu_float[3]:.1f}, "
        f"CPU int8 {cpu_int8[3]:.1f}"
    )
    print("OK: the GPU gives the CPU's vectors" if ok else "FAILED: the vectors differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
