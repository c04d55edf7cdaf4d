"""Fusion ideas tried against the shipped hybrid ranking, on SciFact train (none shipped).

    nice .venv/bin/python bench/fusion_trials.py --beir ../shared/data/bench/scifact --write

Issue #10 asks for hybrid with the static model >= keyword + 0.02 and with the transformer
>= 0.75 nDCG@10 on SciFact train. This script keeps the ideas measured for that, so their
figures can be checked again: over the engine's own candidates (BM25's top 100 and each
model's top 100, from the indexes bench/search_quality.py builds and caches), it re-fuses
the same scores in other ways and prints the best setting of each idea next to the shipped
fusion (min-max scores, keyword weight tuned per model):

- normalisation: min-max, divide by the maximum, or z-scores, on each side;
- dense pseudo-relevance feedback: the query vector moved towards the mean vector of the
  fused top m papers, then searched and fused again (Rocchio);
- three rankings: BM25, the transformer and the static model together;
- corpus IDF on the static model: each token's vector weighted by idf^p over the corpus;
- sentence passages: each abstract sentence (as `encoders.passages` splits it; up to
  2026-12-02 a plain regex without its abbreviations) encoded on its own, a paper's semantic
  score mixed
  with its best sentence's cosine (for the transformer instead of the index's passages, and
  beside them; for the static model, which has no passages). The written figures were
  measured when the index's passages were 128-token windows; they are sentences since
  2026-12-02 (this idea, shipped), so a run now compares sentences with sentences.

Every idea is given its best setting on this split, so a gain here is an upper bound.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import load_average, machine, write_section
from search_quality import build, evaluate, load_beir

from paperboy.search.encoders import passages
from paperboy.search.fusion import LONG_QUERY_WORDS, keyword_weight_for, min_max, query_words
from paperboy.search.query import parse_query

WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def normalised(scores: dict[str, float], how: str) -> dict[str, float]:
    if not scores or how == "min-max":
        return min_max(scores)
    values = np.array(list(scores.values()))
    if how == "max":
        top = float(values.max()) or 1.0
        return {pid: s / top for pid, s in scores.items()}
    mean, spread = float(values.mean()), float(values.std()) or 1.0
    return {pid: (s - mean) / spread for pid, s in scores.items()}


def fused(keyword, semantic, weight, how=("min-max", "min-max")):
    a, b = normalised(keyword, how[0]), normalised(semantic, how[1])
    floor_a, floor_b = min(a.values(), default=0.0), min(b.values(), default=0.0)
    union = set(a) | set(b)
    scores = {p: weight * a.get(p, floor_a) + (1 - weight) * b.get(p, floor_b) for p in union}
    return dict(sorted(scores.items(), key=lambda item: -item[1])[:100])


class Side:
    """One model's indexes over the corpus and its raw scores for every query."""

    def __init__(self, engine, queries, qids):
        self.engine = engine
        self.vectors = engine._vector_sets()[0]
        model = self.vectors.model
        # The shipped weight of each query (it depends on its length); the ideas below start
        # from the weight of a sentence-long query, as SciFact's claims are (12 words a claim).
        self.weights = {
            q: keyword_weight_for(model, words=query_words(parse_query(queries[q]).text))
            for q in qids
        }
        self.weight = keyword_weight_for(model, words=LONG_QUERY_WORDS)
        self.query = {q: engine.query_vector(self.vectors.model, queries[q]) for q in qids}

    def semantic(self, vec, extra, rescore: bool = True) -> dict[str, float]:
        found = dict(self.vectors.search(vec, 100))
        found |= self.vectors.scores(vec, [p for p in extra if p not in found])
        if not rescore:
            return found
        if self.vectors is self.engine.indexes.dense and self.engine.indexes.passages is not None:
            found = self.engine._rescore_with_passages(vec, found)
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", required=True, type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(args.beir, args.split)
    qrels = {q: r for q, r in qrels.items() if q in queries}
    qids = list(qrels)
    sides = {}
    for model in ("minilm", "static"):
        engine, _, _ = build(Path(tempfile.mkdtemp()), corpus, model, args.beir.name)
        sides[model] = Side(engine, queries, qids)
    keyword_index = sides["static"].engine.indexes.keyword
    keyword = {q: dict(keyword_index.search(parse_query(queries[q]), limit=100)[0]) for q in qids}
    semantic = {
        m: {q: side.semantic(side.query[q], list(keyword[q])) for q in qids}
        for m, side in sides.items()
    }

    def ndcg(run) -> float:
        return evaluate(qrels, run)["ndcg@10"]

    rows = []
    for model, side in sides.items():
        shipped = ndcg({q: fused(keyword[q], semantic[model][q], side.weights[q]) for q in qids})
        weights = "/".join(f"{w}" for w in sorted(set(side.weights.values()), reverse=True))
        rows.append((model, "shipped: min-max, keyword weight (by query length)", weights, shipped))
        print(rows[-1], flush=True)
        best = max(
            (
                ndcg({q: fused(keyword[q], semantic[model][q], w, how) for q in qids}),
                f"{how[0]} / {how[1]}, weight {w}",
            )
            for how in itertools.product(("min-max", "max", "z"), repeat=2)
            for w in WEIGHTS
        )
        rows.append((model, "normalisation (keyword / semantic) and weight", best[1], best[0]))
        print(rows[-1], flush=True)
        best = (0.0, "")
        for m, keep in itertools.product((3, 5, 10), (0.3, 0.5, 0.7)):
            moved = {}
            for q in qids:
                top = list(fused(keyword[q], semantic[model][q], side.weight))[:m]
                mean = np.mean([side.vectors.vector(p) for p in top], axis=0)
                vec = keep * side.query[q] + (1 - keep) * mean / (np.linalg.norm(mean) or 1.0)
                moved[q] = side.semantic((vec / np.linalg.norm(vec)).astype(np.float32), keyword[q])
            for w in (side.weight - 0.1, side.weight, side.weight + 0.1):
                got = ndcg({q: fused(keyword[q], moved[q], w) for q in qids})
                best = max(best, (got, f"top {m}, query share {keep}, weight {w:.1f}"))
        rows.append((model, "dense pseudo-relevance feedback", best[1], best[0]))
        print(rows[-1], flush=True)

    best = (0.0, "")
    for wk, ws in itertools.product((0.3, 0.35, 0.4, 0.45), (0.05, 0.1, 0.15, 0.2)):
        run = {}
        for q in qids:
            parts = [min_max(keyword[q]), min_max(semantic["minilm"][q])]
            parts.append(min_max(semantic["static"][q]))
            share = (wk, 1 - wk - ws, ws)
            union = set().union(*parts)
            scores = {p: sum(w * s.get(p, 0.0) for w, s in zip(share, parts)) for p in union}
            run[q] = dict(sorted(scores.items(), key=lambda item: -item[1])[:100])
        best = max(best, (ndcg(run), f"keyword {wk}, static {ws}, transformer {1 - wk - ws:.2f}"))
    rows.append(("minilm + static", "three rankings", best[1], best[0]))
    print(rows[-1], flush=True)

    rows += _corpus_idf(sides["static"], corpus, queries, qids, keyword, ndcg)
    for model, side in sides.items():
        rows += _sentence_passages(model, side, corpus, qids, keyword, semantic[model], ndcg)
    lines = [
        f"`nice .venv/bin/python bench/fusion_trials.py --beir {args.beir} --write`",
        "",
        f"{machine()}, {date.today().isoformat()}, load {load_average()}. SciFact "
        f"{args.split}, {len(qids)} queries, nDCG@10. Each idea at its best setting on this "
        "split (an upper bound); the shipped fusion for comparison. Only the sentence "
        "passages passed it by more than noise; sentences instead of the 128-token windows "
        "shipped on 2026-12-02 (the shipped row above is the windows', measured before; "
        "docs/search.md).",
        "",
        "| model | idea | best setting | nDCG@10 |",
        "|---|---|---|---|",
    ] + [f"| {m} | {idea} | {setting} | {score:.4f} |" for m, idea, setting, score in rows]
    print("\n".join(lines))
    if args.write:
        write_section(
            "fusion_trials", "Fusion ideas tried (`bench/fusion_trials.py`)", "\n".join(lines)
        )


def _corpus_idf(side, corpus, queries, qids, keyword, ndcg):
    """The static model re-applied with each token weighted by (idf / mean idf)^p."""
    model = side.engine.indexes.encoder(side.vectors.model).model
    table = model.embedding.astype(np.float32)

    def token_ids(texts):
        return [
            np.array([t for t in e.ids if t < len(table)], dtype=np.int64)
            for e in model.tokenizer.encode_batch(texts, add_special_tokens=False)
        ]

    docs = token_ids([f"{d.get('title') or ''} {d.get('text') or ''}" for d in corpus])
    asked = token_ids([queries[q] for q in qids])
    held = np.zeros(len(table))
    for ids in docs:
        held[np.unique(ids)] += 1
    idf = np.maximum(np.log((len(docs) + 1) / (held + 0.5)), 0.05)
    pids = [str(d["_id"]) for d in corpus]
    row_of = {pid: row for row, pid in enumerate(pids)}
    rows = []
    for power in (0.25, 0.5, 1.0):
        weight = (idf / idf.mean()) ** power

        def encode(seqs, weight=weight):
            out = np.zeros((len(seqs), table.shape[1]), dtype=np.float32)
            for row, ids in enumerate(seqs):
                if len(ids):
                    out[row] = (table[ids] * weight[ids, None]).mean(0)
            return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-9)

        cos = encode(asked) @ encode(docs).T
        alone, hybrid = {}, {}
        for i, q in enumerate(qids):
            top = np.argsort(-cos[i])[:100]
            scores = {pids[j]: float(cos[i, j]) for j in top}
            scores |= {p: float(cos[i, row_of[p]]) for p in keyword[q] if p not in scores}
            alone[q] = dict(sorted(scores.items(), key=lambda item: -item[1])[:100])
            hybrid[q] = scores
        best = max((ndcg({q: fused(keyword[q], hybrid[q], w) for q in qids}), w) for w in WEIGHTS)
        rows.append(("static", f"corpus IDF, p = {power}: alone", "", ndcg(alone)))
        rows.append(("static", f"corpus IDF, p = {power}: hybrid", f"weight {best[1]}", best[0]))
        print(rows[-2:], flush=True)
    return rows


def _sentence_passages(model, side, corpus, qids, keyword, semantic, ndcg):
    """Each candidate's semantic score mixed with its best abstract sentence's cosine:
    share * score + (1 - share) * best sentence."""
    bases = {"beside the index's passages" if model == "minilm" else "": semantic}
    if model == "minilm":
        bases["instead of the index's passages"] = {
            q: side.semantic(side.query[q], list(keyword[q]), rescore=False) for q in qids
        }
    wanted = set().union(*(set(run[q]) for run in bases.values() for q in qids))
    owners, sentences = [], []
    for doc in corpus:
        if str(doc["_id"]) in wanted:
            for sentence in filter(str.strip, passages(doc.get("text") or "")):
                owners.append(str(doc["_id"]))
                sentences.append(sentence)
    started = time.monotonic()
    vectors = side.engine.indexes.encoder(model).encode(sentences)
    rate = len(sentences) / (time.monotonic() - started)
    print(f"{model}: {len(sentences):,} sentences of {len(wanted):,} papers, {rate:,.0f}/s")
    held: dict[str, list[int]] = {}
    for row, pid in enumerate(owners):
        held.setdefault(pid, []).append(row)
    rows = []
    for label, base in bases.items():
        for share in (0.3, 0.5, 0.7):
            mixed = {}
            for q in qids:
                vec = side.query[q]
                mixed[q] = {
                    pid: share * s + (1 - share) * float((vectors[held[pid]] @ vec).max())
                    if pid in held
                    else s
                    for pid, s in base[q].items()
                }
            alone = {
                q: dict(sorted(m.items(), key=lambda item: -item[1])[:100])
                for q, m in mixed.items()
            }
            best = max(
                (ndcg({q: fused(keyword[q], mixed[q], w) for q in qids}), w) for w in WEIGHTS
            )
            idea = " ".join(filter(None, ["sentence passages", label])) + f", score share {share}"
            rows.append((model, f"{idea}: alone", f"{rate:,.0f} sentences/s", ndcg(alone)))
            rows.append((model, f"{idea}: hybrid", f"weight {best[1]}", best[0]))
            print(rows[-2:], flush=True)
    return rows


if __name__ == "__main__":
    main()
