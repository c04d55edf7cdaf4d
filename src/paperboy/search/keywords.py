"""Keywords for papers that came without any, extracted offline with the search's own model.

    extract_keywords(encoder, title, abstract)   # ["visual tokens", "ConvNeXt", ...]
    extract_missing(store, settings, limit=500)  # feed papers without keywords: found, saved

The method is KeyBERT's (Grootendorst, 2020), written here for our encoders: candidate
phrases are the runs of one to three words of the abstract that neither start nor end with a
stop word; each is embedded, ranked by cosine with the paper's own vector (title and
abstract), and the keywords picked by maximal marginal relevance (Carbonell and Goldstein,
1998), which trades that similarity against similarity to the keywords already picked, so
"visual tokens" and "excessive visual tokens" do not both take a place. No language model
writes anything: every keyword is a phrase of the abstract. Hugging Face's own `ai_keywords`
always win; these are kept apart (store/media.py) and the paper page says they were extracted.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from paperboy.latex import to_text
from paperboy.store.media import Keywords

if TYPE_CHECKING:
    from paperboy.config import Settings
    from paperboy.search.backends import Encoder
    from paperboy.store.sql import SQLStore

KEYWORDS = 8  # per paper, as many as HF's lists usually hold
CANDIDATES = 60  # phrases embedded per paper: the most frequent, then the earliest
DIVERSITY = 0.5  # 0: rank by similarity alone; 1: by novelty alone

_STOP = frozenset(
    [
        "a",
        "about",
        "above",
        "across",
        "after",
        "against",
        "all",
        "also",
        "although",
        "among",
        "an",
        "and",
        "any",
        "approach",
        "approaches",
        "are",
        "as",
        "at",
        "based",
        "be",
        "because",
        "been",
        "before",
        "being",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "demonstrate",
        "demonstrates",
        "do",
        "does",
        "during",
        "each",
        "either",
        "et",
        "etc",
        "existing",
        "experiment",
        "experiments",
        "extensive",
        "few",
        "for",
        "from",
        "further",
        "furthermore",
        "has",
        "have",
        "however",
        "i",
        "if",
        "in",
        "including",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "less",
        "like",
        "many",
        "may",
        "method",
        "methods",
        "might",
        "more",
        "moreover",
        "most",
        "much",
        "must",
        "new",
        "not",
        "novel",
        "of",
        "often",
        "on",
        "one",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "over",
        "paper",
        "particular",
        "per",
        "present",
        "presents",
        "propose",
        "proposed",
        "proposes",
        "provide",
        "provides",
        "rather",
        "recent",
        "recently",
        "result",
        "results",
        "several",
        "shall",
        "should",
        "show",
        "shows",
        "significant",
        "significantly",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "thus",
        "to",
        "two",
        "under",
        "up",
        "upon",
        "use",
        "used",
        "uses",
        "using",
        "various",
        "very",
        "via",
        "was",
        "we",
        "well",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "work",
        "works",
        "would",
        "yet",
    ]
)
_WORD = re.compile(r"\b[0-9]*[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")  # 4DGS, GPT-4o
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"]|\s-\s")


def candidates(text: str, limit: int = CANDIDATES) -> list[str]:
    """Phrases of one to three words that neither start nor end with a stop word (nor hold
    one but "of"), most frequent first (then in order of appearance), one spelling each."""
    counts: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for chunk in _BREAK.split(text):
        words = _WORD.findall(chunk)
        for size in (1, 2, 3):
            for start in range(len(words) - size + 1):
                gram = words[start : start + size]
                if gram[0].lower() in _STOP or gram[-1].lower() in _STOP:
                    continue
                if size == 3 and gram[1].lower() in _STOP and gram[1].lower() != "of":
                    continue  # "redundancy in visual": no phrase; "mixture of experts" is
                if size == 1 and (len(gram[0]) < 3 or gram[0].isdigit()):
                    continue
                key = " ".join(gram).lower()
                counts[key] = counts.get(key, 0) + 1
                spelling.setdefault(key, " ".join(gram))
    order = {key: n for n, key in enumerate(counts)}
    ranked = sorted(counts, key=lambda k: (-counts[k], order[k]))
    return [spelling[k] for k in ranked[:limit]]


def most_relevant_diverse(
    doc: np.ndarray, phrases: np.ndarray, k: int, diversity: float = DIVERSITY
) -> list[int]:
    """Indexes of `k` rows of `phrases` (unit vectors) by maximal marginal relevance to the
    unit vector `doc`: each pick maximises (1 - diversity) * cos(doc, p) - diversity *
    max cos(p, picked)."""
    relevance = phrases @ doc
    picked: list[int] = []
    if len(phrases) == 0:
        return picked
    picked.append(int(np.argmax(relevance)))
    while len(picked) < min(k, len(phrases)):
        redundancy = (phrases @ phrases[picked].T).max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[picked] = -np.inf
        picked.append(int(np.argmax(score)))
    return picked


def extract_keywords(encoder: Encoder, title: str, abstract: str, k: int = KEYWORDS) -> list[str]:
    """Up to `k` keywords of a paper, best first (see the module's docstring)."""
    text = to_text(abstract)
    phrases = candidates(text)
    if not phrases:
        return []
    vectors = encoder.encode([f"{to_text(title)}. {text}", *phrases])
    picked = most_relevant_diverse(vectors[0], vectors[1:], k)
    return [phrases[i] for i in picked]


def extract_missing(
    store: SQLStore, settings: Settings, limit: int = 1000, encoder: Encoder | None = None
) -> dict[str, list[str]]:
    """Keywords for up to `limit` feed papers that have none (newest feed day first), saved
    with the model's name; returns what was found."""
    from paperboy.search.encoders import load_encoder

    missing = Keywords(store).missing(limit)
    if not missing:
        return {}
    encoder = encoder or load_encoder(settings.search_model)
    found = {pid: extract_keywords(encoder, title, abstract) for pid, title, abstract in missing}
    found = {pid: words for pid, words in found.items() if words}
    Keywords(store).save(found, settings.search_model)
    return found
