"""Train the bundled static model for retrieval: contrastive rounds over pairs of real papers.

Step three, after `tools/featurize_corpus.py` (the transformer's vectors of real paper texts)
and `tools/train_static_model.py` (a model2vec table distilled from all-MiniLM-L6-v2 over an
extended vocabulary, then trained with tokenlearn to reproduce those vectors). That table
imitates the transformer, but a mean of token vectors imitates it only so far: on SciFact train
it scored nDCG@10 0.426 alone. This step trains the same table for what search asks of it, to
put a query next to the paper that answers it, with sentence-transformers' own trainer
(`StaticEmbedding` + `MultipleNegativesRankingLoss`: every other paper of a batch of 1,024 is a
negative), on pairs built from the real corpora beside the repository (never SciFact):

- a paper's title and the paper (`title. abstract`), for the ~80k papers with both;
- a sentence of an abstract (6 words or more) and its paper without that sentence (the inverse
  cloze task), 2 to 4 sentences a paper, for the claims and questions people type.

Three rounds of one epoch, each continuing from the last with a lower learning rate and other
sentences (ICT_PER_PAPER): SciFact train nDCG@10 of the static model alone 0.426 -> 0.464 ->
0.483 -> 0.493 (a fourth round, 0.03, stayed at 0.49: stopped there). SciFact train is scored
after each round (the only use of it here; its claims are never trained on).

    /tmp/trainenv/bin/pip install 'accelerate>=1.1'   # beside train_static_model.py's list
    /tmp/trainenv/bin/pip install bm25s PyStemmer     # for --hard-negatives only
    /tmp/trainenv/bin/python tools/train_static_contrastive.py --base BASE_MODEL_DIR \\
        --data ../shared/data/corpora --scifact ../shared/data/bench/scifact \\
        --out src/paperboy/data/models/static

BASE_MODEL_DIR is what `tools/train_static_model.py --limit 16384` wrote. `--rounds` and
`--hard-negatives` run other rounds (a round from the bundled table with BM25-mined negatives
was tried and not kept: docs/search.md). On 2 shared cores a
round takes 5-10 minutes (the committed table came from these rounds run one process each, the
table saved as float16 and reloaded between them). The output is float16 (49,045 tokens x 256: 25 MB, under the 30 MB
the package allows), with the base's LICENSE and NOTICE.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import random
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

ROUNDS = [(0.2, 2), (0.1, 3), (0.05, 4)]  # (learning rate, sentences a paper) per epoch
HARD_RANKS = (3, 30)  # BM25 ranks a hard negative is drawn from, 0-based: 4th to 30th
BATCH = 1024
SCALE = 20.0  # MNRL's similarity scale (its default)
MAX_BYTES = 30_000_000
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def corpus_papers(data: Path) -> dict[str, tuple[str, str]]:
    """id -> (title, abstract) from the arXiv cs listings and the HF daily papers."""
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
    return papers


def training_pairs(papers: dict[str, tuple[str, str]], sentences: int, seed: int = 7):
    """(query-like text, paper text, paper id) triples, shuffled with `seed`."""
    rng = random.Random(seed)
    pairs = []
    for pid in sorted(papers):
        title, abstract = papers[pid]
        if not title or not abstract:
            continue
        pairs.append((title, f"{title}. {abstract}", pid))
        parts = [s for s in _SENTENCE.split(abstract) if len(s.split()) >= 6]
        if len(parts) >= 3:
            for i in rng.sample(range(len(parts)), min(sentences, len(parts))):
                rest = " ".join(s for j, s in enumerate(parts) if j != i)
                pairs.append((parts[i], f"{title}. {rest}", pid))
    rng.shuffle(pairs)
    return pairs


def keyword_negatives(papers: dict[str, tuple[str, str]], pairs, seed: int = 11) -> list[str]:
    """For each pair, a paper that BM25 ranks high for its query text but that is another
    paper: drawn from BM25's ranks HARD_RANKS (the very top is left out, where another paper
    is most often as right as the pair's own). Trained against these, the table learns what
    keyword search confuses, the part of a ranking that hybrid search asks of it."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ids = [pid for pid in sorted(papers) if all(papers[pid])]
    texts = [f"{papers[pid][0]}. {papers[pid][1]}" for pid in ids]
    retriever = bm25s.BM25()
    quiet = {"show_progress": False}
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, **quiet), **quiet)
    low, high = HARD_RANKS
    queries = bm25s.tokenize([a for a, _, _ in pairs], stopwords="en", stemmer=stemmer, **quiet)
    found, _ = retriever.retrieve(queries, k=high, n_threads=2, show_progress=False)
    rng = random.Random(seed)
    negatives = []
    for (_, _, pid), row in zip(pairs, found):
        choices = [int(j) for j in row[low:high] if ids[j] != pid]
        negatives.append(texts[rng.choice(choices)] if choices else "")
    return negatives


def scifact_ndcg(encode, folder: Path) -> float:
    """nDCG@10 of the model alone on SciFact train (cosine over `title. text`)."""
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").read_text().splitlines()]
    lines = (folder / "queries.jsonl").read_text().splitlines()
    queries = {row["_id"]: row["text"] for row in map(json.loads, lines)}
    qrels: dict[str, set[str]] = {}
    with open(folder / "qrels" / "train.tsv") as fh:
        rows = csv.reader(fh, delimiter="\t")
        next(rows)
        for qid, did, score in rows:
            if int(score) > 0:
                qrels.setdefault(qid, set()).add(did)
    ids = [d["_id"] for d in corpus]
    docs = encode([f"{d.get('title', '')}. {d['text']}" for d in corpus])
    qids = list(qrels)
    sims = encode([queries[q] for q in qids]) @ docs.T
    total = 0.0
    for row, qid in enumerate(qids):
        top = np.argsort(-sims[row])[:10]
        dcg = sum(1 / math.log2(i + 2) for i, j in enumerate(top) if ids[j] in qrels[qid])
        total += dcg / sum(1 / math.log2(i + 2) for i in range(min(10, len(qrels[qid]))))
    return total / len(qids)


def train_round(model, pairs, learning_rate: float, negatives: list[str] | None = None) -> None:
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    columns = {"anchor": [a for a, _, _ in pairs], "positive": [p for _, p, _ in pairs]}
    if negatives is not None:
        keep = [i for i, n in enumerate(negatives) if n]
        columns = {k: [v[i] for i in keep] for k, v in columns.items()}
        columns["negative"] = [negatives[i] for i in keep]
    data = Dataset.from_dict(columns)
    with tempfile.TemporaryDirectory() as scratch:
        args = SentenceTransformerTrainingArguments(
            output_dir=scratch,
            num_train_epochs=1,
            per_device_train_batch_size=BATCH,
            learning_rate=learning_rate,
            warmup_steps=0.1,
            lr_scheduler_type="cosine",
            save_strategy="no",
            report_to=[],
            batch_sampler="no_duplicates",
            use_cpu=True,
            seed=13,
            disable_tqdm=True,
        )
        loss = MultipleNegativesRankingLoss(model, scale=SCALE)
        SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss).train()


def save(model, base: Path, out: Path) -> None:
    from model2vec import StaticModel

    weights = model[0].embedding.weight.detach().numpy().astype(np.float16)
    config = json.loads((base / "config.json").read_text())
    config.update(
        normalize=True,
        embedding_dtype="float16",
        tokenizer_name="sentence-transformers/all-MiniLM-L6-v2",
    )
    out.mkdir(parents=True, exist_ok=True)
    StaticModel(
        vectors=weights, tokenizer=model[0].tokenizer, config=config, normalize=True
    ).save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # model2vec's generic card, not ours
    for name in ("LICENSE", "NOTICE"):
        if (base / name).exists() and base.resolve() != out.resolve():
            shutil.copy(base / name, out / name)
    size = (out / "model.safetensors").stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{size:,} bytes: over the {MAX_BYTES:,} the package allows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, type=Path, help="the tokenlearn model folder")
    parser.add_argument("--data", required=True, type=Path, help="the real corpora folder")
    parser.add_argument("--scifact", type=Path, help="SciFact (BEIR layout), scored each round")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--rounds",
        help="rounds as LR:SENTENCES,... (default: the three that made the bundled table "
        "from the tokenlearn base)",
    )
    parser.add_argument(
        "--hard-negatives",
        action="store_true",
        help="give each pair a paper BM25 ranks high for its query (keyword_negatives)",
    )
    parser.add_argument("--seed", type=int, default=7, help="which sentences and order")
    args = parser.parse_args()
    rounds = ROUNDS
    if args.rounds:
        rounds = [(float(r.split(":")[0]), int(r.split(":")[1])) for r in args.rounds.split(",")]

    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    torch.set_num_threads(2)
    model = SentenceTransformer(
        modules=[StaticEmbedding.from_model2vec(str(args.base))], device="cpu"
    ).float()  # float16 tables train to NaN

    def encode(texts):
        vectors = model.encode(texts, batch_size=2048, convert_to_numpy=True)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    papers = corpus_papers(args.data)
    if args.scifact:
        print(f"base: SciFact train nDCG@10 {scifact_ndcg(encode, args.scifact):.4f}", flush=True)
    for number, (learning_rate, sentences) in enumerate(rounds, start=1):
        pairs = training_pairs(papers, sentences, seed=args.seed)
        negatives = keyword_negatives(papers, pairs) if args.hard_negatives else None
        train_round(model, pairs, learning_rate, negatives)
        score = f"{scifact_ndcg(encode, args.scifact):.4f}" if args.scifact else "-"
        print(
            f"round {number} ({len(pairs):,} pairs, lr {learning_rate}): SciFact train "
            f"nDCG@10 {score}",
            flush=True,
        )
    save(model, args.base, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
