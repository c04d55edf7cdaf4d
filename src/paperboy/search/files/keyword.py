"""The keyword index: BM25 over title (boosted), abstract and authors, in tantivy.

    index = KeywordIndex(path)                 # a folder beside the store; None: in memory
    index.add(papers); index.commit()          # a paper added twice replaces itself
    index.search(parse_query("sparse attention"), limit=100)   # [(paper id, bm25)], total

Why tantivy: measured here at 100k abstracts, an OR query's p50 was 0.4 ms (bm25s 14 ms,
SQLite FTS5 47 ms). Text is split on non-alphanumerics, lower-cased, ASCII-folded, English
stop words dropped and Snowball-stemmed; the highlighter uses the same analyzer (`analyze`),
so what is marked is what matched.

Short queries (at most `SHORT_QUERY_WORDS` free words: what people type into a paper search)
are read as people type them:
- a hyphenated word ("self-attention", "in-context") is one compound: its parts must stand
  together (a phrase), and papers that write the compound itself score more (the `compounds`
  field holds each paper's hyphenated words joined: "incontext"), so neither half alone
  ("self", "context") decides the ranking;
- query words that stand together in a paper (within `PROXIMITY_SLOP` words) add a proximity
  score, so "causal attention" ranks papers about causal attention above papers that say
  "causal" in one sentence and "attention" in another.
Longer queries (a question, a claim, a pasted abstract) are a bag of words: each part of a
compound is a word of its own and there is no proximity score. Measured on SciFact train
(claims of 3-40 words, bench/keyword_tuning.py): reading claims of 7+ words as short queries
cost 0.007-0.02 nDCG@10, reading those of up to 6 words so cost nothing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import tantivy

from paperboy.papers import Paper
from paperboy.search.backends import KeywordIndexError, day_number, paper_day
from paperboy.search.query import ParsedQuery, has_constraints

TEXT_ANALYZER = "paper_text"
NAME_ANALYZER = "paper_names"
TITLE_BOOST = 0.25  # with the title also inside "text"; tuned on SciFact dev (docs/search.md)
# Tuned with bench/keyword_tuning.py (docs/benchmarks.md): on the short-query set these two
# took nDCG@10 from 0.822 to 0.847; on SciFact train (claims) they cost 0.0005.
COMPOUND_BOOST = 1.0  # a paper writing the compound itself ("in-context")
PROXIMITY_BOOST = 0.5  # adjacent query words adjacent in the paper
PROXIMITY_SLOP = 2  # words allowed between them (stop words count)
SHORT_QUERY_WORDS = 6  # up to this many free words: compounds and proximity apply
RERANK_DEPTH = 100  # proximity re-ranks this many of BM25's best (bench/keyword_tuning.py)
EXACT_COUNT_UP_TO = 10_000  # a plain-word query matching more papers has its total estimated
# A compound's phrase reads word positions on every paper holding both halves (30 ms for
# "fine-tuning" at 2.7M papers): a large query with compounds ranks first with the halves
# anywhere, keeps BOUND_WIDTH x depth papers and scores only those exactly (`_bounded`).
BOUND_WIDTH = 3
# `_filtered` is tried when the filters keep about this share of the papers or more: below it
# too few of the words' best would pass (as for "has:code" in bench/arxiv_scale.py's corpus).
FILTERED_FROM = 0.25
SCHEMA_VERSION = 2  # bump when _schema() changes: the index is rebuilt from the store
_SAFE = re.compile(r"[^\w]+", re.UNICODE)
# Possessive `\w++` after `\b`: the plain `\w+(?:-\w+)+` retried every shorter prefix of
# every word; on the 75k arXiv abstracts it took 18 s, this and the filter below 3 s (same
# matches; tests/test_search_keyword.py), once the largest part of a bulk import's indexing.
_COMPOUND = re.compile(r"\b\w++(?:[-\u2010\u2011]\w++)+", re.UNICODE)


def _text_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _name_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


_ANALYZER = _text_analyzer()
_NAMES = _name_analyzer()


def analyze(text: str) -> list[str]:
    """The index terms of `text` (stemmed, stop words dropped), as the index sees them."""
    terms: list[str] = _ANALYZER.analyze(text or "")
    return terms


def analyze_names(text: str) -> list[str]:
    terms: list[str] = _NAMES.analyze(text or "")
    return terms


def compounds(text: str) -> list[str]:
    """The hyphenated words of a text, joined: "in-context self-attention" -> incontext,
    selfattention (what the `compounds` field holds)."""
    # A compound holds no space: only the space-separated pieces with a hyphen need the regex.
    return [
        _SAFE.sub("", m)
        for piece in (text or "").split()
        if "-" in piece or "\u2010" in piece or "\u2011" in piece
        for m in _COMPOUND.findall(piece)
    ]


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("title", tokenizer_name=TEXT_ANALYZER)
    b.add_text_field("text", tokenizer_name=TEXT_ANALYZER)
    b.add_text_field("compounds", tokenizer_name=TEXT_ANALYZER, index_option="freq")
    b.add_text_field("authors", tokenizer_name=NAME_ANALYZER)
    b.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    b.add_integer_field("day", indexed=True, fast=True)
    b.add_integer_field("upvotes", fast=True)
    b.add_integer_field("has_code", indexed=True, fast=True)
    return b.build()


class KeywordIndex:
    def __init__(self, path: str | Path | None = None, heap_size: int = 64_000_000):
        self.path = Path(path) if path else None
        self.schema = _schema()
        try:
            if self.path is not None:
                self.path.mkdir(parents=True, exist_ok=True)
                self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
            else:
                self.index = tantivy.Index(self.schema)
        except ValueError as exc:
            raise KeywordIndexError(
                f"cannot open the keyword index {self.path}: {exc}; "
                "run `paperboy index` to rebuild it"
            ) from None
        self.index.register_tokenizer(TEXT_ANALYZER, _text_analyzer())
        self.index.register_tokenizer(NAME_ANALYZER, _name_analyzer())
        self._heap_size = heap_size
        self._writer: tantivy.IndexWriter | None = None

    # -- writing -----------------------------------------------------------------------------
    @property
    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self.index.writer(self._heap_size, 1)
            except ValueError as exc:
                raise KeywordIndexError(
                    f"the keyword index {self.path} is being written by another process "
                    f"({exc}); try again when it has finished"
                ) from None
        return self._writer

    def add(self, papers: Iterable[Paper]) -> int:
        """Add or replace papers (by id); visible after `commit()`."""
        count = 0
        for p in papers:
            self.writer.delete_documents_by_term("id", p.id)
            doc = tantivy.Document()
            doc.add_text("id", p.id)
            doc.add_text("title", p.title or "")
            # Title and abstract as one BM25 field (measured better than two fields on
            # SciFact), plus the title alone for a small boost.
            doc.add_text("text", f"{p.title or ''}. {p.abstract or ''}")
            doc.add_text("compounds", " ".join(compounds(f"{p.title or ''} {p.abstract or ''}")))
            doc.add_text("authors", " ; ".join(p.authors))
            for cat in p.categories:
                doc.add_text("categories", cat)
            doc.add_integer("day", day_number(paper_day(p)))
            doc.add_integer("upvotes", int(p.upvotes or 0))
            doc.add_integer("has_code", 1 if p.code_url else 0)
            self.writer.add_document(doc)
            count += 1
        return count

    def remove(self, ids: Iterable[str]) -> None:
        for pid in ids:
            self.writer.delete_documents_by_term("id", pid)

    def clear(self) -> None:
        self.writer.delete_all_documents()

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None
        self.index.reload()

    def rollback(self) -> None:
        """Drop what was added since the last commit, and the writer's lock with it."""
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None

    def reload(self) -> None:
        self.index.reload()

    # -- reading -----------------------------------------------------------------------------
    def count(self) -> int:
        return self.index.searcher().num_docs

    def all_ids(self) -> list[str]:
        searcher = self.index.searcher()
        total = searcher.num_docs
        if not total:
            return []
        hits = searcher.search(tantivy.Query.all_query(), limit=total, count=False).hits
        return [searcher.doc(addr)["id"][0] for _, addr in hits]

    def search(
        self,
        q: ParsedQuery,
        limit: int = 100,
        offset: int = 0,
        sort: str = "relevance",
        conjunction: bool = False,
    ) -> tuple[list[tuple[str, float]], int]:
        """Ranked (paper id, score) for the query's text and filters, and how many matched.

        Free words are OR-ed (BM25 ranks papers matching more of them higher) unless
        `conjunction`; phrases, exclusions and filters must hold. Sorting by date or upvotes
        orders the matches by that field instead of the score.
        """
        query = self.build_query(q, conjunction)
        if query is None:
            return [], 0
        searcher = self.index.searcher()
        field = {"date": "day", "upvotes": "upvotes"}.get(sort)
        if field:
            result = searcher.search(
                query,
                limit=limit,
                offset=offset,
                count=True,
                order_by_field=field,
                order=tantivy.Order.Desc,
            )
            found = [(searcher.doc(addr)["id"][0], float(score)) for score, addr in result.hits]
            return found, int(result.count)  # type: ignore[attr-defined]  # count=True sets it
        near = self._proximity(q.words) if len(q.words) <= SHORT_QUERY_WORDS else []
        # Two passes when there is proximity: BM25 ranks every matching paper, then proximity
        # re-ranks its best RERANK_DEPTH (phrase queries read word positions: in one query
        # they were read on every matching paper, most of a search's time at 2.7M papers).
        # Below the re-ranked top BM25's order stands; its scores are lower than any above.
        depth = max(RERANK_DEPTH, offset + limit) if near else offset + limit
        # A plain-word query holding many papers has its total estimated, not counted: the
        # count is a second collector over every match (through tantivy-py, ranking visits
        # every match too: it always collects through a MultiCollector, so tantivy's
        # block-max WAND never skips; measured at 2.7M papers, docs/deploy.md).
        # Large queries with compounds or broad filters first rank a cheaper reading that
        # bounds the served one, then score its best exactly (`_bounded`, `_filtered`).
        estimate = self._estimated_matches(searcher, q)
        if estimate is not None:
            bounded = self._bounded(searcher, q, depth)
            filtered = None if bounded is None else (bounded, 0)
        else:
            filtered = self._filtered(searcher, q, query, depth)
        if filtered is not None:
            found, total = filtered
        else:
            result = searcher.search(query, limit=depth, count=estimate is None)
            found = [(searcher.doc(addr)["id"][0], float(score)) for score, addr in result.hits]
            total = int(result.count) if estimate is None else 0  # type: ignore[attr-defined]
        if estimate is not None:
            total = len(found) if len(found) < depth else max(estimate, len(found))
        if near:
            found = (
                self._with_proximity(searcher, found[:RERANK_DEPTH], near) + found[RERANK_DEPTH:]
            )
        return found[offset : offset + limit], total

    def _filtered(
        self, searcher: tantivy.Searcher, q: ParsedQuery, query: tantivy.Query, depth: int
    ) -> tuple[list[tuple[str, float]], int] | None:
        """The top `depth` of a large query whose constraints only filter (dates, categories,
        code, exclusions: each scores every paper it keeps alike), without scoring every
        paper a broad filter keeps ("year:2025" holds half of arXiv). Its words rank alone
        first (their best BOUND_WIDTH x depth), then the filters are checked on those. When
        at least `depth` pass, they are the query's own top in the same order: a paper further
        down the words' ranking scores no more than the last one checked. Their scores get
        the filters' share added (measured on the first), and the total is estimated: the
        words' estimate times the share of those checked that passed. None otherwise (a
        phrase or an author, which score, or a narrow filter): rank every match."""
        if q.phrases or q.authors or not has_constraints(q) or not q.words or not BOUND_WIDTH:
            return None
        words = ParsedQuery(raw=q.raw, words=q.words)
        estimate = self._estimated_matches(searcher, words)
        if estimate is None or self._kept_share(searcher, q) < FILTERED_FROM:
            return None
        width = BOUND_WIDTH * depth
        ranked = self._bounded(searcher, words, width)
        if ranked is None:
            free = self.build_query(words)
            if free is None:
                return None
            ranked = [
                (searcher.doc(addr)["id"][0], float(score))
                for score, addr in searcher.search(free, limit=width, count=False).hits
            ]
        passed = allowed_ids(self, q, [pid for pid, _ in ranked])
        kept = [(pid, score) for pid, score in ranked if pid in passed]
        complete = len(ranked) < width  # every paper holding the words was checked
        if not complete and len(kept) < depth:
            return None
        if kept:
            first = tantivy.Query.term_set_query(self.schema, "id", [kept[0][0]])
            one = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.boost_query(first, 0.0)),
                    (tantivy.Occur.Must, query),
                ]
            )
            hits = searcher.search(one, limit=1, count=False).hits
            share = float(hits[0][0]) - kept[0][1] if hits else 0.0
            kept = [(pid, score + share) for pid, score in kept]
        if complete:
            return kept[:depth], len(kept)
        guess = int(float(f"{estimate * len(kept) / len(ranked):.2g}"))
        return kept[:depth], max(guess, len(kept))

    def _estimated_matches(self, searcher: tantivy.Searcher, q: ParsedQuery) -> int | None:
        """How many papers hold any word of a query of plain words and compounds, estimated
        from each word's document frequency as if words were independent, when that is over
        EXACT_COUNT_UP_TO; rounded to two figures. None (count them) otherwise, and for
        phrases, filters and exclusions. A plain word is one `_term_clauses` writes as bare
        terms; a compound counts the papers that write it hyphenated (the `compounds` field;
        its phrase also finds "fine tuning" written apart). Words that go together make it
        high: on 80,000 papers, 1.00 to 1.27 times the true count for the 18 plain queries
        over the bound (bench/arxiv_scale.py --keyword-breakdown prints the comparison)."""
        if has_constraints(q) or not q.words or len(q.words) > SHORT_QUERY_WORDS:
            return None
        papers = searcher.num_docs
        missing = 1.0
        for word in q.words:
            terms = _plain_terms(word)
            if terms is not None:
                text, name = terms
                held = max(
                    searcher.doc_freq("text", text) if text else 0,  # the title is in "text"
                    searcher.doc_freq("authors", name) if name else 0,
                )
            else:
                joined = _compound_terms(word)
                if len(joined) != 1:
                    return None
                held = searcher.doc_freq("compounds", joined[0])
            missing *= 1 - min(held, papers) / max(papers, 1)
        estimate = papers * (1 - missing)
        if estimate <= EXACT_COUNT_UP_TO:
            return None
        return int(float(f"{estimate:.2g}"))

    def _kept_share(self, searcher: tantivy.Searcher, q: ParsedQuery) -> float:
        """About what share of the papers the query's filters and exclusions keep, from
        document frequencies as if they were independent (a date range from up to 64 of its
        days)."""
        papers = max(searcher.num_docs, 1)
        share = 1.0
        if q.categories:
            held = sum(searcher.doc_freq("categories", c) for c in q.categories)
            share *= min(1.0, held / papers)
        if q.has_code is not None:
            share *= searcher.doc_freq("has_code", 1 if q.has_code else 0) / papers
        if q.date_from or q.date_to:
            first = day_number(q.date_from or date(1991, 1, 1))
            last = day_number(q.date_to or date.today() + timedelta(days=31))
            if last < first:
                return 0.0
            days = range(first, last + 1, max(1, (last - first + 1) // 64))
            in_range = sum(searcher.doc_freq("day", d) for d in days) * len(range(first, last + 1))
            share *= min(1.0, in_range / len(days) / papers)
        for excluded in q.excluded:
            terms = analyze(excluded)
            if terms:
                share *= 1 - min(searcher.doc_freq("text", t) for t in terms) / papers
        return share

    def _bounded(
        self, searcher: tantivy.Searcher, q: ParsedQuery, depth: int
    ) -> list[tuple[str, float]] | None:
        """The top `depth` papers for a large query with compounds, exactly, without
        reading word positions on every paper holding both halves of a compound. First each
        compound is read loosely: its halves anywhere in a field (`_halves`) instead of side
        by side. On every paper that scores at least what the phrase does, so the loose
        reading ranks a superset of the papers and bounds each one's score from above. Its
        best BOUND_WIDTH x depth are then scored as the served query scores them, clause by
        clause (`_atoms`, `_scores_of`). A paper left out scores at most the last one kept,
        so when the depth-th scored paper is above that, these are the served query's own
        top, scores and order. None when there is no compound or that does not hold: rank
        every match."""
        if all(_plain_terms(word) is not None for word in q.words) or not BOUND_WIDTH:
            return None
        atoms = [self._atoms(word) for word in q.words]
        if any(a is None for a in atoms):
            return None
        clauses = []
        for word in q.words:
            terms = self._term_clauses(word)
            clause = self._word_clause(word, loose=True) if terms is None else None
            clauses += terms if terms is not None else [clause] if clause is not None else []
        if not clauses:
            return None
        loose = tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])
        width = BOUND_WIDTH * depth
        hits = searcher.search(loose, limit=width, count=False).hits
        if not hits:
            return []  # nothing holds the halves: nothing holds the compounds either
        scored = self._scores_of(searcher, [a for word in atoms if word for a in word], hits)
        if len(hits) < width:
            return scored[:depth]  # every loosely matching paper was scored
        if len(scored) >= depth and scored[depth - 1][1] > float(hits[-1][0]) * (1 + 1e-5):
            return scored[:depth]
        return None

    def _scores_of(
        self,
        searcher: tantivy.Searcher,
        atoms: list[tantivy.Query],
        hits: list[tuple[float, tantivy.DocAddress]],
    ) -> list[tuple[str, float]]:
        """The papers of `hits` that match any of `atoms`, with the sum of the atoms' scores
        (what a query OR-ing them gives), best first. One search an atom, each "these papers
        AND the atom": the few papers lead, and a phrase reads positions only where they
        stand (a query OR-ing phrases reads them in windows of thousands of papers around
        each one)."""
        within = tantivy.Query.boost_query(
            tantivy.Query.term_set_query(
                self.schema, "id", [searcher.doc(addr)["id"][0] for _, addr in hits]
            ),
            0.0,
        )
        total: dict[tuple[int, int], float] = {}
        for atom in atoms:
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, within), (tantivy.Occur.Must, atom)]
            )
            for score, addr in searcher.search(query, limit=len(hits), count=False).hits:
                key = (addr.segment_ord, addr.doc)
                total[key] = total.get(key, 0.0) + float(score)
        ranked = sorted(total.items(), key=lambda item: (-item[1], item[0]))
        return [(searcher.doc(tantivy.DocAddress(*key))["id"][0], score) for key, score in ranked]

    def _with_proximity(
        self, searcher: tantivy.Searcher, found: list[tuple[str, float]], near: list[tantivy.Query]
    ) -> list[tuple[str, float]]:
        """`found` re-ranked with the proximity clauses' scores added to each paper's BM25:
        the score the one query "words AND optionally near" gives, for these papers only.
        One search a clause, each "these papers AND the clause": the few papers lead and
        the clause's word positions are read only where they stand (measured faster than one
        search OR-ing the clauses, bench/arxiv_scale.py --keyword-breakdown)."""
        if not found:
            return found
        within = tantivy.Query.boost_query(
            tantivy.Query.term_set_query(self.schema, "id", [pid for pid, _ in found]), 0.0
        )
        extra: dict[str, float] = {}
        for clause in near:
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, within), (tantivy.Occur.Must, clause)]
            )
            for score, addr in searcher.search(query, limit=len(found), count=False).hits:
                pid = searcher.doc(addr)["id"][0]
                extra[pid] = extra.get(pid, 0.0) + float(score)
        if not extra:
            return found
        ranked = [(pid, score + extra.get(pid, 0.0)) for pid, score in found]
        return sorted(ranked, key=lambda hit: -hit[1])  # stable: BM25's order breaks ties

    def allowed_ids(self, q: ParsedQuery, ids: list[str]) -> set[str]:
        """Which of `ids` satisfy the query's phrases, filters and exclusions."""
        return allowed_ids(self, q, ids)

    def build_query(self, q: ParsedQuery, conjunction: bool = False) -> tantivy.Query | None:
        """The tantivy query for a parsed query, or None when nothing can match."""
        clauses = []
        for phrase in q.phrases:  # an "exact phrase" must be there
            query = self._parse(_quoted_phrase(phrase), conjunction=False)
            if query is not None:
                clauses.append((tantivy.Occur.Must, query))
        words = self._words_query(q, conjunction)
        if words is not None:
            # With a phrase, the other words only rank; alone, at least one must match.
            clauses.append((tantivy.Occur.Should if clauses else tantivy.Occur.Must, words))
        clauses += [(tantivy.Occur.Must, f) for f in self._filters(q)]
        for excluded in q.excluded:
            query = self._parse(_quoted_phrase(excluded), conjunction=False)
            if query is not None:
                clauses.append((tantivy.Occur.MustNot, query))
        if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
            if not q.excluded:
                return None
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        if len(clauses) == 1 and words is not None:
            return words  # unwrapped: block-max WAND applies to an OR of terms at the top
        return tantivy.Query.boolean_query(clauses)

    def _words_query(self, q: ParsedQuery, conjunction: bool) -> tantivy.Query | None:
        """Each free word is a clause (a compound is one clause for all its parts); OR-ed,
        or all required with `conjunction`. Proximity only ranks: `search` adds it."""
        if len(q.words) > SHORT_QUERY_WORDS:
            # A bag of words: one parse for all of them (a pasted abstract or a paper's own
            # text in similar() has hundreds; parsing each alone cost ~1 ms per 200 words).
            parts = [p for w in q.words for p in _SAFE.sub(" ", w).split()]
            return self._parse(" ".join(f'"{p}"' for p in parts), conjunction) if parts else None
        if conjunction:
            clauses = [c for c in (self._word_clause(w) for w in q.words) if c is not None]
            if not clauses:
                return None
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses])
        clauses = []
        for word in q.words:
            terms = self._term_clauses(word)
            if terms is None:
                clause = self._word_clause(word)
                terms = [clause] if clause is not None else []
            clauses += terms
        if not clauses:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])

    def _term_clauses(self, word: str) -> list[tantivy.Query] | None:
        """A plain word as bare term queries in the text, title (boosted) and authors fields:
        what the query parser makes of it, flat (the same scores, tested). A flat OR of bare
        terms is what tantivy's block-max WAND prunes; tantivy-py 0.27 does not let it run
        yet (see `search`), so today this only keeps the query ready for it. None when the
        word is not one term in each field (a compound)."""
        terms = _plain_terms(word)
        if terms is None:
            return None
        text, name = terms
        found = []
        if text:
            found.append(tantivy.Query.term_query(self.schema, "text", text, "freq"))
            if TITLE_BOOST:
                title = tantivy.Query.term_query(self.schema, "title", text, "freq")
                found.append(tantivy.Query.boost_query(title, TITLE_BOOST))
        if name:
            found.append(tantivy.Query.term_query(self.schema, "authors", name, "freq"))
        return found

    def _word_clause(self, word: str, loose: bool = False) -> tantivy.Query | None:
        """A word that is no single term (a compound): its parts as a phrase in each field,
        or papers writing the compound itself (boosted). `loose`: the parts anywhere in a
        field instead of a phrase (see `_bounded`)."""
        parts = _SAFE.sub(" ", word).split()
        if not parts:
            return None
        if loose:
            phrase = self._halves(" ".join(parts))
        else:
            # Quoted, the parser keeps a compound's parts together (a phrase in each field).
            phrase = self._parse(f'"{" ".join(parts)}"', conjunction=False)
        joined = _compound_terms(word)
        clauses = [
            tantivy.Query.boost_query(
                tantivy.Query.term_query(self.schema, "compounds", term), COMPOUND_BOOST
            )
            for term in joined
        ]
        if phrase is not None:
            clauses.insert(0, phrase)
        if len(clauses) <= 1:
            return clauses[0] if clauses else None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])

    def _atoms(self, word: str) -> list[tantivy.Query] | None:
        """A query word as the clauses whose scores add up to its score in `_words_query`,
        each one term or one phrase in one field: the parser's reading of a compound taken
        apart (tested). None where a part is more than one term (not sure to agree)."""
        terms = self._term_clauses(word)
        if terms is not None:
            return terms
        parts = _SAFE.sub(" ", word).split()
        atoms = []
        fields = [("text", analyze, 1.0), ("authors", analyze_names, 1.0)]
        if TITLE_BOOST:
            fields.append(("title", analyze, TITLE_BOOST))
        for field, analyzer, boost in fields:
            placed: list[tuple[int, str]] = []
            for position, part in enumerate(parts):  # a dropped stop word keeps its place
                got = analyzer(part)
                if len(got) > 1:
                    return None
                placed += [(position, got[0])] if got else []
            if not placed:
                continue
            atom = (
                tantivy.Query.term_query(self.schema, field, placed[0][1], "freq")
                if len(placed) == 1
                else tantivy.Query.phrase_query(self.schema, field, list(placed))
            )
            atoms.append(atom if boost == 1.0 else tantivy.Query.boost_query(atom, boost))
        atoms += [
            tantivy.Query.boost_query(
                tantivy.Query.term_query(self.schema, "compounds", term), COMPOUND_BOOST
            )
            for term in _compound_terms(word)
        ]
        return atoms

    def _halves(self, text: str) -> tantivy.Query | None:
        """Every term of `text` in the same field, anywhere, for the fields a phrase of it is
        looked for in (the title boosted as there). On every paper this scores at least what
        the phrase does: a phrase's BM25 is the sum of its terms' idf times a function of
        the phrase's frequency, which rises with frequency as each term's does, and no
        phrase is more frequent than any of its terms."""
        fields = [("text", analyze(text), 1.0), ("authors", analyze_names(text), 1.0)]
        if TITLE_BOOST:
            fields.append(("title", analyze(text), TITLE_BOOST))
        clauses = []
        for field, terms, boost in fields:
            if not terms:
                continue
            each = [tantivy.Query.term_query(self.schema, field, t, "freq") for t in terms]
            query = (
                each[0]
                if len(each) == 1
                else tantivy.Query.boolean_query([(tantivy.Occur.Must, t) for t in each])
            )
            clauses.append(query if boost == 1.0 else tantivy.Query.boost_query(query, boost))
        if not clauses:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])

    def _proximity(self, words: list[str]) -> list[tantivy.Query]:
        """Phrase queries with slop over consecutive query terms (stop words dropped)."""
        if not PROXIMITY_BOOST or len(words) < 2:
            return []
        terms = analyze(" ".join(words))
        pairs = list(dict.fromkeys(itertools.pairwise(terms)))
        return [
            tantivy.Query.boost_query(
                tantivy.Query.phrase_query(self.schema, "text", _terms(pair), PROXIMITY_SLOP),
                PROXIMITY_BOOST,
            )
            for pair in pairs
            if pair[0] != pair[1]
        ]

    def _parse(self, text: str, conjunction: bool) -> tantivy.Query | None:
        if not text.strip('" '):
            return None
        query, _errors = self.index.parse_query_lenient(
            text,
            default_field_names=["text", "authors"] + (["title"] if TITLE_BOOST else []),
            field_boosts={"title": TITLE_BOOST} if TITLE_BOOST else None,
            conjunction_by_default=conjunction,
        )
        return query

    def _filters(self, q: ParsedQuery) -> list[tantivy.Query]:
        schema = self.schema
        found = []
        for author in q.authors:
            words = analyze_names(author)
            if words:
                found.append(
                    tantivy.Query.phrase_query(schema, "authors", _terms(words))
                    if len(words) > 1
                    else tantivy.Query.term_query(schema, "authors", words[0])
                )
        if q.categories:
            found.append(tantivy.Query.term_set_query(schema, "categories", q.categories))
        if q.date_from or q.date_to:
            found.append(
                tantivy.Query.range_query(
                    schema,
                    "day",
                    tantivy.FieldType.Integer,
                    day_number(q.date_from) if q.date_from else None,
                    day_number(q.date_to) if q.date_to else None,
                )
            )
        if q.has_code is not None:
            found.append(tantivy.Query.term_query(schema, "has_code", 1 if q.has_code else 0))
        return found


def _plain_terms(word: str) -> tuple[str | None, str | None] | None:
    """A plain query word's term in the text fields and in the authors field (None where
    the analyzer drops it, a stop word); None when the word is no single term (a compound,
    or parts the analyzers split)."""
    parts = _SAFE.sub(" ", word).split()
    if len(parts) != 1 or compounds(word):
        return None
    text, names = analyze(parts[0]), analyze_names(parts[0])
    if len(text) > 1 or len(names) > 1:
        return None
    return (text[0] if text else None), (names[0] if names else None)


def _compound_terms(word: str) -> list[str]:
    """The `compounds` field's terms for a query word ("self-attention" -> selfattent)."""
    return [t for c in compounds(word) for t in analyze(c)]


def _terms(words: Iterable[str]) -> list[str | tuple[int, str]]:
    """Words as tantivy's phrase_query takes them (each a term, or an (offset, term))."""
    return list(words)


def _quoted_phrase(text: str) -> str:
    words = _SAFE.sub(" ", text).split()
    return f'"{" ".join(words)}"' if words else ""


def _constraints_only(q: ParsedQuery) -> ParsedQuery:
    """The parts of a query every result must satisfy: phrases, filters, exclusions."""
    return ParsedQuery(
        raw=q.raw,
        phrases=q.phrases,
        excluded=q.excluded,
        authors=q.authors,
        categories=q.categories,
        date_from=q.date_from,
        date_to=q.date_to,
        has_code=q.has_code,
    )


def allowed_ids(index: KeywordIndex, q: ParsedQuery, ids: list[str]) -> set[str]:
    """Which of `ids` satisfy the query's phrases, filters and exclusions."""
    if not ids:
        return set()
    if not has_constraints(q):
        return set(ids)
    query = index.build_query(_constraints_only(q))
    if query is None:
        return set(ids)
    within = tantivy.Query.term_set_query(index.schema, "id", list(ids))
    both = tantivy.Query.boolean_query([(tantivy.Occur.Must, within), (tantivy.Occur.Must, query)])
    searcher = index.index.searcher()
    hits = searcher.search(both, limit=len(ids), count=False).hits
    return {searcher.doc(addr)["id"][0] for _, addr in hits}
