"""Search quality before and after the encoding change, with the same engine in one run.

    nice .venv/bin/python bench/encode_quality.py --beir ../shared/data/bench/scifact --split train --write

`before`: the old encoding path (the package's float graph, onnxruntime's threads, 32 texts a
batch: `encode` for the paper vector, then `encode_passages`), queries encoded the same way.
`now`: `encode_with_passages` on the int8 graph, one text per run, as the index does now.
Both sets of vectors go into the same kind of store and indexes and are ranked by the
engine's own `rank()` (keyword, semantic, hybrid), so the only difference is the encoding.
Each variant's vectors are cached in bench/.cache/ (the old path needs most of an hour for
SciFact's 5,183 abstracts on 2 busy cores), keyed by the texts and by the code that encodes
them (`MAKERS`): a change to either encodes again (a new model package or onnxruntime does
not: delete bench/.cache/ after upgrading them).

`--variants now,one-run,batch4` compares cheaper passage vectors (bench/passage_variants.py)
with the index's own, in a section of its own.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from passage_variants import batched, one_run
from report import load_average, write_section
from search_quality import corpus_store, evaluate, load_beir, run_modes

from paperboy.papers import Paper
from paperboy.search.encoders import _session, load_encoder
from paperboy.search.engine import HybridSearch
from paperboy.search.files import FileIndexes as SearchIndexes
from paperboy.search.updater import MAX_PASSAGES, paper_text, passage_id, text_hash

CACHE = ROOT / "bench" / ".cache"


def old_encoder():
    """The transformer as the index ran it before: float graph, onnxruntime's threads."""
    encoder = load_encoder("minilm", precision="float")
    encoder.session = _session(encoder.session._model_path, 0, "cpu")
    encoder.workers, encoder.batch_size = 1, 32
    return encoder


# The code that makes the vectors: a change to it makes the cached vectors stale. (Not the
# model files or onnxruntime: after upgrading either, delete bench/.cache.)
MAKERS = [
    Path(__file__),  # old_encoder, for the "before" variant
    ROOT / "bench" / "passage_variants.py",
    ROOT / "src/paperboy/search/encoders.py",
    ROOT / "src/paperboy/search/updater.py",  # MAX_PASSAGES
]


def encode(variant: str, encoder, texts: list[str]) -> dict[str, np.ndarray]:
    made_by = b"".join(path.read_bytes() for path in MAKERS)
    key = hashlib.sha1("\n".join(texts).encode() + made_by).hexdigest()[:16]
    path = CACHE / f"encode-quality-{variant}-{key}.npz"
    if path.exists():
        return dict(np.load(path))
    if variant == "before":
        doc = encoder.encode(texts)
        passages, owners = encoder.encode_passages(texts, max_passages=MAX_PASSAGES)
    elif variant == "one-run":
        doc, passages, owners = one_run(encoder, texts)
    elif variant.startswith("batch"):
        doc, passages, owners = batched(encoder, texts, int(variant.removeprefix("batch")))
    else:
        doc, passages, owners = encoder.encode_with_passages(texts, max_passages=MAX_PASSAGES)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, doc=doc, pas=passages, own=owners)
    return {"doc": doc, "pas": passages, "own": owners}


def engine_with(folder: Path, corpus, encoder, vectors) -> HybridSearch:
    store, settings, papers = corpus_store(folder, corpus, "minilm")
    stored = store.get_many([p.id for p in papers])
    indexes = SearchIndexes(settings, encoders={"minilm": encoder})
    ids = [p.id for p in papers]
    indexes.dense.put(ids, vectors["doc"], [text_hash(paper_text(stored[i])) for i in ids])
    counts: dict[int, int] = {}
    keys = []
    for owner in vectors["own"]:
        counts[int(owner)] = counts.get(int(owner), -1) + 1
        keys.append(passage_id(ids[int(owner)], counts[int(owner)]))
    indexes.passages.put(keys, vectors["pas"])
    indexes.passages.save()
    indexes.dense.save(watermark=store.max_seq())
    report = indexes.update(store)  # the keyword index; no vector is stale
    assert report.dense == 0, "the cached vectors do not match the stored texts"
    return HybridSearch(store, settings, indexes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", required=True, type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument(
        "--variants", default="before,now", help="before, now, one-run, batchN (comma-separated)"
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    variants = args.variants.split(",")
    corpus, queries, qrels = load_beir(args.beir, args.split)
    qrels = {q: r for q, r in qrels.items() if q in queries}
    texts = [
        paper_text(
            Paper(id=str(d["_id"]), title=d.get("title") or "", abstract=d.get("text") or "")
        )
        for d in corpus
    ]
    rows = []
    for variant in variants:
        encoder = old_encoder() if variant == "before" else load_encoder("minilm")
        vectors = encode(variant, encoder, texts)
        with tempfile.TemporaryDirectory() as tmp:
            engine = engine_with(Path(tmp), corpus, encoder, vectors)
            modes = ["semantic", "hybrid"] + (["keyword"] if not rows else [])
            runs = run_modes(engine, queries, qrels, modes)
            passages, engine.indexes.passages = engine.indexes.passages, None
            runs["semantic, no passages"] = run_modes(engine, queries, qrels, ["semantic"])[
                "semantic"
            ]
            engine.indexes.passages = passages
            for mode, run in runs.items():
                scores = evaluate(qrels, run)
                label = "keyword (BM25)" if mode == "keyword" else f"{mode}, {variant}"
                rows.append((label, scores["ndcg@10"], scores["recall@100"]))
                print(
                    f"{label:<32} nDCG@10 {scores['ndcg@10']:.4f}  "
                    f"Recall@100 {scores['recall@100']:.4f}",
                    flush=True,
                )
    if args.write:
        default = args.variants == "before,now"
        lines = [
            (
                f"`nice .venv/bin/python bench/encode_quality.py --beir {args.beir} --split "
                f"{args.split}{'' if default else ' --variants ' + args.variants} --write`"
            ),
            "",
            (
                f"Collection `{args.beir.name}`, split `{args.split}`: {len(corpus):,} "
                f"documents, {len(qrels):,} judged queries, ranked by the engine's `rank()` "
                + (
                    "with the old encoding's vectors and queries (`before`) and with the "
                    "current ones (`now`)"
                    if default
                    else "with the index's own vectors (`now`: a run for the paper and one "
                    "for each sentence) and with cheaper passage vectors "
                    "(bench/passage_variants.py; `one-run`: each sentence pooled from the "
                    "paper's own run; `batchN`: the sentence runs N at a time); the paper "
                    "vectors and the queries' are the same in all"
                )
                + f"; load {load_average()}."
            ),
            "",
            "| ranking | nDCG@10 | Recall@100 |",
            "|---|---|---|",
        ]
        lines += [f"| {label} | {ndcg:.4f} | {recall:.4f} |" for label, ndcg, recall in rows]
        write_section(
            "encode_quality" if default else "encode_quality_passages",
            "Encoding change and search quality (`bench/encode_quality.py`)"
            if default
            else "Cheaper passage vectors and search quality (`bench/encode_quality.py`)",
            "\n".join(lines),
        )
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
