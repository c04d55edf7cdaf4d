"""Transformer encoding speed on a CPU: papers/s and passages/s for each step from the old
encoding path to the one `paperboy index --backfill` uses now, measured in ONE run.

    nice .venv/bin/python bench/encode_speed.py --corpus ../shared/data/corpora/arxiv_cs_listings.jsonl.gz --write

A fixed sample of real abstracts (seeded shuffle of the arXiv cs listings) is cut into rounds;
every setting encodes the same round before the next round starts, so a change in the
machine's load during the run falls on all settings alike, and the figures that matter are
the ratios to the first setting (the old path), measured side by side. The load average is
printed with them. Settings, each one step from the one before:

- `before`: the float graph as the package ships it (int8 weights, float compute), the
  paper vector from a 256-token run and every 128-token window (`windows` below, over the
  first ~500 tokens of texts longer than one window) from a run of its own
  (`encode` + `encode_passages`, 32 texts a batch, onnxruntime's threads inside each run,
  256 papers a chunk), as the index did.
- `+ int8 graph`: the same on the int8 compute graph (`encoders.int8_graph`).
- `+ batch 1`: one text per run (no padding).
- `+ one run per core`: the paper and passage runs of a chunk in one pool, `search_threads`
  runs at once, one core each (what the index did until 2026-12-02).
- `+ sentence passages`: `encode_with_passages` as the index runs it now, whose passages are
  the title and each sentence (`encoders.passages`) instead of 128-token windows.
- a variant tried and not kept, and abstracts alone (no passages) before and now;
- two cheaper ways to the sentence vectors, tried and not kept (bench/passage_variants.py;
  their search quality: bench/encode_quality.py --variants now,one-run,batch4).

The old path's figures also calibrate the method: its 2-core estimate should match the 7
papers/s with passages (19 without) measured on a quiet machine before. Agreement: mean and
lowest cosine of each setting's paper vectors with those of `before`. With --backfill N the
real `SearchIndexes.backfill` also runs over N imported papers (store reads, saves and all),
to show the end-to-end rate next to the bare encoder's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from passage_variants import batched, one_run
from report import load_average, write_section

from paperboy.search.encoders import OnnxEncoder, _normalise, _session, load_encoder

CORPUS = ROOT.parent / "shared" / "data" / "corpora" / "arxiv_cs_listings.jsonl.gz"
PAPERS_75K = 74_728


def sample_texts(path: Path, size: int, seed: int = 2024) -> list[str]:
    """`title. abstract` of `size` papers of the corpus (the text the index encodes)."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    random.Random(seed).shuffle(rows)
    return [
        f"{' '.join((r.get('title') or '').split())}. "
        f"{' '.join((r.get('summary') or '').split())}".strip()
        for r in rows[:size]
    ]


def windows(encoder: OnnxEncoder, texts: list[str], window: int = 128, most: int = 4):
    """The passages the index used until 2026-12-02: [CLS] ... [SEP] runs over each text's
    first `most` stretches of `window` tokens, and each one's text."""
    from types import SimpleNamespace

    whole = Tokenizer.from_str(encoder.tokenizer.to_str())
    whole.no_truncation()
    found, owners = [], []
    step = window - 2  # room for [CLS] and [SEP]
    for i, e in enumerate(whole.encode_batch([t or "" for t in texts])):
        body, first, last = e.ids[1:-1], e.ids[:1], e.ids[-1:]
        for start in range(0, max(1, min(len(body), step * most)), step):
            found.append(SimpleNamespace(ids=first + body[start : start + step] + last))
            owners.append(i)
    return found, np.asarray(owners, dtype=np.int64)


def old_path(encoder: OnnxEncoder, texts: list[str]):
    """What the index did before: a 256-token run per paper, then a run per window."""
    vectors, passages = [], 0
    for start in range(0, len(texts), 256):
        part = texts[start : start + 256]
        vectors.append(encoder.encode(part))
        passages += len(encoder._pooled(windows(encoder, part)[0]))
    return np.concatenate(vectors), passages


def with_windows(encoder: OnnxEncoder, texts: list[str]):
    """The index until 2026-12-02: paper and window runs of each 256-paper chunk in one pool
    (a text that fits one window has no passage)."""
    vectors, found = [], 0
    for start in range(0, len(texts), 256):
        part = texts[start : start + 256]
        cut, owners = windows(encoder, part)
        several = np.bincount(owners, minlength=len(part))[owners] > 1
        kept = [w for w, keep in zip(cut, several) if keep]
        pooled = encoder._pooled([*encoder.tokenizer.encode_batch(part), *kept])
        vectors.append(_normalise(pooled[: len(part)]))
        found += len(kept)
    return np.concatenate(vectors), found


def with_passages(encoder: OnnxEncoder, texts: list[str]):
    """What the index does now: `encode_with_passages` over the index's 256-paper chunks."""
    vectors, found = [], 0
    for start in range(0, len(texts), 256):
        part, found_, _ = encoder.encode_with_passages(texts[start : start + 256])
        vectors.append(part)
        found += len(found_)
    return np.concatenate(vectors), found


def pooled_from_passages(encoder: OnnxEncoder, texts: list[str]):
    """Tried, not kept: no paper run; the paper's vector is the mean of its windows' token
    states (half the runs; SciFact train semantic nDCG@10 -0.007, docs/search.md)."""
    vectors, found = [], 0
    for start in range(0, len(texts), 256):
        part = texts[start : start + 256]
        cut, owners = windows(encoder, part)
        pooled = encoder._pooled(cut)
        sizes = np.array([len(w.ids) for w in cut], np.float32)
        sums = np.zeros((len(part), encoder.dim), np.float32)
        np.add.at(sums, owners, pooled * sizes[:, None])
        vectors.append(sums / np.linalg.norm(sums, axis=1, keepdims=True))
        found += int((np.bincount(owners)[owners] > 1).sum())
    return np.concatenate(vectors), found


def make_encoder(threads: int, precision: str, batch_size: int | None, runs_at_once: bool):
    """The bundled transformer at this precision; `runs_at_once` False: one run at a time
    with onnxruntime's own threads inside it (the old way)."""
    made = load_encoder("minilm", threads, precision=precision)
    if batch_size:
        made.batch_size = batch_size
    if not runs_at_once:
        made.session = _session(made.session._model_path, threads, "cpu")
        made.workers = 1
    return made


def settings(threads: int):
    """(label, encoder factory, run) for each step, each one change from the one before."""
    return [
        (
            "before: float graph, paper run + a run per passage, batch 32, onnxruntime threads",
            lambda: make_encoder(threads, "float", 32, False),
            old_path,
        ),
        ("+ int8 graph", lambda: make_encoder(threads, "int8", 32, False), old_path),
        ("+ batch 1 (no padding)", lambda: make_encoder(threads, "int8", 1, False), old_path),
        (
            "+ one run per core at once, paper and window runs in one pool (until 2026-12-02)",
            lambda: make_encoder(threads, "int8", None, True),
            with_windows,
        ),
        (
            "+ passages are the title and each sentence, not 128-token windows (the default now)",
            lambda: make_encoder(threads, "int8", None, True),
            with_passages,
        ),
        (
            "tried: no paper run, paper vector pooled from its passage runs",
            lambda: make_encoder(threads, "int8", None, True),
            pooled_from_passages,
        ),
        (
            "abstracts only, before: float graph, batch 32, onnxruntime threads",
            lambda: make_encoder(threads, "float", 32, False),
            lambda e, t: (e.encode(t), 0),
        ),
        (
            "abstracts only, now: int8, batch 1, one run per core",
            lambda: make_encoder(threads, "int8", None, True),
            lambda e, t: (e.encode(t), 0),
        ),
        (
            "tried: sentence vectors pooled from the paper's own run (past its 256 tokens, a "
            "run of their own)",
            lambda: make_encoder(threads, "int8", None, True),
            lambda e, t: _counted(one_run(e, t)),
        ),
        (
            "tried: sentence runs 4 at a time (padded)",
            lambda: make_encoder(threads, "int8", None, True),
            lambda e, t: _counted(batched(e, t, 4)),
        ),
    ]


def _counted(found):
    """(paper vectors, passages) from what `encode_with_passages` returns."""
    return found[0], len(found[1])


def measure(texts: list[str], rounds: int, threads: int, only: list[int] | None):
    chosen = [s for i, s in enumerate(settings(threads)) if only is None or i in only]
    encoders = [make() for _, make, _ in chosen]
    for encoder, (_, _, run) in zip(encoders, chosen):
        run(encoder, texts[:4])  # warm-up: session start, first allocations
    seconds = [0.0] * len(chosen)
    cpu = [0.0] * len(chosen)
    passages = [0] * len(chosen)
    vectors: list[list[np.ndarray]] = [[] for _ in chosen]
    size = -(-len(texts) // rounds)
    for number, start in enumerate(range(0, len(texts), size)):
        part = texts[start : start + size]
        for i, (encoder, (_, _, run)) in enumerate(zip(encoders, chosen)):
            began, began_cpu = time.perf_counter(), time.process_time()
            found, count = run(encoder, part)
            seconds[i] += time.perf_counter() - began
            cpu[i] += time.process_time() - began_cpu
            passages[i] += count
            vectors[i].append(found)
        print(f"round {number + 1}: load {load_average()}", flush=True)
    return [
        (label, seconds[i], cpu[i], passages[i], np.concatenate(vectors[i]))
        for i, (label, _, _) in enumerate(chosen)
    ]


def backfill_rate(texts_path: Path, papers: int, checkpoint: int):
    """(papers/s, papers per CPU-s) of the real backfill over `papers` imported papers, and
    the same for the bare encoder over the same texts right after."""
    from paperboy.config import Settings
    from paperboy.ingest import import_file
    from paperboy.search.files import FileIndexes as SearchIndexes
    from paperboy.search.updater import paper_text
    from paperboy.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        with gzip.open(texts_path, "rt", encoding="utf-8") as lines:
            for line in lines:
                rows.append(line)
                if len(rows) == papers:
                    break
        source = Path(tmp) / "sample.jsonl"
        source.write_text("".join(rows))
        settings_ = Settings.load(data_dir=Path(tmp) / "data", search_embed_limit=0)
        store = open_store(settings_)
        import_file(store, source, settings_, show_progress=False, index=False)
        indexes = SearchIndexes(settings_)
        indexes.update(store)
        began, began_cpu = time.perf_counter(), time.process_time()
        done = indexes.backfill(store, progress=False, save_every=checkpoint)
        full = (done / (time.perf_counter() - began), done / (time.process_time() - began_cpu))
        texts = [paper_text(p) for p in store.get_many(store.all_paper_ids()).values()]
        encoder = indexes.encoder(settings_.search_model)
        began, began_cpu = time.perf_counter(), time.process_time()
        encoder.encode_with_passages(texts)
        bare = (
            len(texts) / (time.perf_counter() - began),
            len(texts) / (time.process_time() - began_cpu),
        )
    return full, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--sample", type=int, default=2000, help="papers encoded per setting")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="0: onnxruntime decides")
    parser.add_argument("--only", help="comma-separated setting numbers (0 = before)")
    parser.add_argument(
        "--backfill",
        type=int,
        default=0,
        help="also time the real backfill over this many imported papers",
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    only = [int(x) for x in args.only.split(",")] if args.only else None
    texts = sample_texts(args.corpus, args.sample)
    load_before = load_average()
    print(f"{len(texts)} papers, load {load_before}", flush=True)
    results = measure(texts, args.rounds, args.threads, only)
    load_after = load_average()
    base_wall = len(texts) / results[0][1]
    base_cpu = len(texts) / results[0][2]
    cores = os.cpu_count() or 1
    command = (
        f"`nice .venv/bin/python bench/encode_speed.py --sample {args.sample} "
        f"--rounds {args.rounds}"
        f"{' --backfill ' + str(args.backfill) if args.backfill else ''}"
        f"{' --only ' + args.only if args.only else ''} --write`"
    )
    lines = [
        command,
        "",
        (
            f"{len(texts):,} real abstracts (arXiv cs listings, fixed seed), every setting on "
            f"the same {args.rounds} rounds in turn; load average {load_before} at the start "
            f"and {load_after} at the end, on {cores} cores shared with other jobs: read the "
            f"ratios, measured side by side, not the absolute rates. *Per CPU-second* counts "
            f"the CPU time this process got (what a busy machine does not distort much); "
            f"*2-core estimate* = that x {cores} cores, what an otherwise idle machine gives "
            f"when the setting keeps every core busy. *Agreement*: mean / lowest cosine of "
            f"the paper vectors with those of `before`."
        ),
        "",
        (
            "| setting | papers/s (wall) | papers per CPU-s | passages per CPU-s | "
            "x before (wall) | x before (CPU) | 2-core estimate, 75k papers | agreement |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    reference = results[0][4]
    for label, seconds, cpu, passages, vectors in results:
        agree = ""
        if vectors.shape == reference.shape:
            cos = (vectors * reference).sum(axis=1)
            agree = f"{cos.mean():.4f} / {cos.min():.4f}"
        per_cpu = len(texts) / cpu
        estimate = per_cpu * cores
        line = (
            f"| {label} | {len(texts) / seconds:.1f} | {per_cpu:.1f} | "
            f"{passages / cpu:.1f} | {len(texts) / seconds / base_wall:.2f} | "
            f"{per_cpu / base_cpu:.2f} | {estimate:.0f}/s, "
            f"{PAPERS_75K / estimate / 60:.0f} min | {agree} |"
        )
        lines.append(line)
        print(line, flush=True)
    if args.backfill:
        full, bare = backfill_rate(args.corpus, args.backfill, checkpoint=512)
        line = (
            f"The real `SearchIndexes.backfill` over {args.backfill:,} imported papers "
            f"(store reads, text hashes, saves; checkpoint every 512): {full[0]:.1f} "
            f"papers/s and {full[1]:.1f} per CPU-s, against {bare[0]:.1f}/s and "
            f"{bare[1]:.1f} per CPU-s for the bare encoder on the same texts right after "
            f"({full[0] / bare[0]:.0%} and {full[1] / bare[1]:.0%}); load "
            f"{load_average()}."
        )
        lines += ["", line]
        print(line, flush=True)
    if args.write:
        # A run of some settings only (--only) gets a section of its own.
        key = "encode_speed" + (f"_{args.only.replace(',', '_')}" if args.only else "")
        title = "Transformer encoding speed (`bench/encode_speed.py`"
        title += f" --only {args.only})" if args.only else ")"
        write_section(key, title, "\n".join(lines))
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
