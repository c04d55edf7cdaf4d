"""Search inside PostgreSQL: the SQL behind `search_backend = "postgres"`.

    keyword = PgKeywordIndex(store)          # tsvector + GIN, in table paper_search
    keyword.add(papers); keyword.search(parse_query("sparse attention"), limit=100)
    vectors = PgVectors(store, "minilm", dim=384)   # pgvector halfvec + HNSW, table paper_vectors
    vectors.put(ids, matrix, hashes); vectors.search(query_vector, k=100)

They answer the Protocols of search/backends.py, as the files backend does (search/files/), so
the one engine (search/engine.py) parses, filters and fuses the same way over either; the
shared updater (search/updater.py, through indexes.py) fills them from the store, a watermark
in `state` each. They use the store's public parts only: `conn`, `transaction()`,
`schema_transaction()`.

Keyword ranking: PostgreSQL has no BM25 without an extension (ParadeDB) that cannot be
installed here, and plain `ts_rank` knows nothing of how rare a word is (on SciFact its nDCG@10
was 0.566 against BM25's 0.706). So each query word's `ts_rank` over the weighted tsvector
(title A, abstract B, authors C), saturated (normalisation 32: rank / (rank + 1)), is weighted
by the word's inverse document frequency, read from the planner's statistics (`pg_stats` keeps
the most common lexemes of `doc` with their frequencies; ANALYZE refreshes them): a BM25-like
sum at no query-time cost for the statistics (0.699 on SciFact train, bench/search_backends.py). A
word in the abstract counts half as much as one in the title (`RANK_WEIGHTS`; PostgreSQL's
default is 0.4): on SciFact train 0.6989 at 0.5 and 0.6, 0.6900 at 0.4, 0.6934 at 0.8, 0.6839
at 1.0 (`bench/search_backends.py --sweep`). The words are OR-ed, as in the embedded engine.
Ranking a row means detoasting its tsvector, so a ranked query reads at most MAX_READ rows,
those holding the most of its rarest words first (`PgKeywordIndex._ranked`; docs/search.md
lists what bounds each query class, bench/pg_keyword_bounds.py what it costs and keeps at 1M
papers).

Vectors are pgvector `halfvec` (float16, half the size of `vector`) in one table for every
model, each model with its own partial HNSW index over `embedding::halfvec(dim)`: one table
serves models of different widths. The index is built when the first rows are saved (a bulk
load into an unindexed table, then one build, is many times faster than row-by-row inserts).
"""

from __future__ import annotations

import logging
import math
import re
import struct
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paperboy.papers import Paper
from paperboy.search.backends import KeywordIndexError, day_number, paper_day
from paperboy.search.query import ParsedQuery, has_constraints
from paperboy.store import StoreError
from paperboy.store.postgres import PostgresStore

TEXT_CONFIG = "english"  # stemming and stop words for title, abstract and free words
NAME_CONFIG = "simple"  # lower-case only: author names are matched as written
RANK_FUNCTION = "ts_rank"  # or ts_rank_cd (cover density); compared in bench/search_backends.py
RANK_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"  # ts_rank weights for D, C, B, A (module docstring)
RANK_NORMALIZATION = 32  # rank / (rank + 1): a word's weight saturates (tuned on SciFact)
STATS_TTL = 60.0  # seconds the lexeme frequencies from pg_stats are cached
CANDIDATE_FREQ = 0.05  # lexemes in more papers than this don't make a paper a candidate
# The bounds on one query's work (docs/search.md): tsvectors read (detoasted) per try, the
# lexemes scored (the rarest; a pasted abstract has hundreds), rows counted for a total.
MAX_READ = 2_000
MAX_TIER_WORDS = 8  # the narrowest tier: papers holding all of these rarest words
MAX_SCORED = 32
MAX_COUNT = 10_000
# The last guard: a statement of a ranked try running longer is stopped (the query answers
# with the earlier tries' hits, or says so); the bounds above keep tries far below it.
STATEMENT_TIMEOUT_MS = 2_000
EF_SEARCH = 200  # HNSW candidate list; at least k (pgvector answers at most ef_search rows)
COUNT_TTL = 2.0  # seconds a vector count is cached (the engine asks on every query)
log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^\w]+", re.UNICODE)
# Cached planner statistics: (read at, rows, lexeme frequencies, frequency of unlisted ones)
_Stats = tuple[float, float, dict[str, float], float]


class PgSearchError(StoreError):
    """Search tables cannot be created or used; the message says what to do."""


def fold(text: str) -> str:
    """Accents off (Schölkopf -> Scholkopf), as the embedded index's name analyzer does."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _literal(text: str) -> str:
    """A SQL string literal (for DDL and partial-index predicates, which take no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]


# == keyword search ==============================================================================


class PgKeywordIndex:
    """The keyword index as rows of `paper_search` (migration 0004)."""

    def __init__(self, store: PostgresStore):
        self.store = store
        self.path = None  # not a folder: lives in the database
        self._stats: _Stats | None = None  # (read at, rows, lexeme frequencies, floor)

    # -- writing -----------------------------------------------------------------------------
    def add(self, papers: Iterable[Paper]) -> int:
        """Add or replace papers; committed at once (`commit()` has nothing left to do)."""
        rows = [
            (
                p.id,
                index_words(p.title or ""),
                index_words(p.abstract or ""),
                index_words(" ; ".join(p.authors)),
                fold(" ; ".join(p.authors)),
                list(p.categories),
                day_number(paper_day(p)),
                bool(p.code_url),
            )
            for p in papers
        ]
        if not rows:
            return 0
        with self.store.transaction() as conn:
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS paper_search_in (paper_id TEXT, title TEXT, "
                "abstract TEXT, authors TEXT, names TEXT, categories TEXT[], day INTEGER, "
                "has_code BOOLEAN) ON COMMIT DELETE ROWS"
            )
            conn.copy_rows(
                "paper_search_in",
                [
                    "paper_id",
                    "title",
                    "abstract",
                    "authors",
                    "names",
                    "categories",
                    "day",
                    "has_code",
                ],
                rows,
            )
            conn.execute(
                f"INSERT INTO paper_search (paper_id, doc, names, categories, day, has_code) "
                f"SELECT paper_id, "
                f"setweight(to_tsvector('{TEXT_CONFIG}', title), 'A') || "
                f"setweight(to_tsvector('{TEXT_CONFIG}', abstract), 'B') || "
                f"setweight(to_tsvector('{TEXT_CONFIG}', authors), 'C'), "
                f"to_tsvector('{NAME_CONFIG}', names), categories, day, has_code "
                f"FROM paper_search_in WHERE paper_id IN (SELECT id FROM papers) "
                f"ON CONFLICT (paper_id) DO UPDATE SET doc = excluded.doc, "
                f"names = excluded.names, categories = excluded.categories, "
                f"day = excluded.day, has_code = excluded.has_code"
            )
        return len(rows)

    def remove(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            with self.store.transaction() as conn:
                conn.execute("DELETE FROM paper_search WHERE paper_id = ANY(?)", (ids,))

    def clear(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM paper_search")

    def commit(self) -> None:
        """Nothing is pending: `add()` and `remove()` commit their rows at once."""

    def rollback(self) -> None:
        """Nothing is pending: what `add()` wrote stays, and the watermark, written after it,
        makes the next update write those rows again."""

    # -- reading -----------------------------------------------------------------------------
    def count(self) -> int:
        count: int = self.store.conn.execute("SELECT count(*) FROM paper_search").fetchone()[0]
        return count

    def all_ids(self) -> list[str]:
        rows = self.store.conn.execute("SELECT paper_id FROM paper_search").fetchall()
        return [r[0] for r in rows]

    def search(
        self,
        q: ParsedQuery,
        limit: int = 100,
        offset: int = 0,
        sort: str = "relevance",
        conjunction: bool = False,
    ) -> tuple[list[tuple[str, float]], int]:
        """Ranked (paper id, score) and how many matched: the embedded index's contract.

        Free words are OR-ed (papers matching more of them, and rarer ones, rank higher)
        unless `conjunction`; phrases, exclusions and filters must hold. Sorting by date or
        upvotes orders the matches by that field; the score is then the field's value.
        A ranked query reads at most MAX_READ papers' tsvectors per try (see `_ranked`).
        """
        if sort not in ("date", "upvotes"):
            terms = self._terms(q)
            if terms.lexemes:
                return self._ranked(q, terms, limit, offset, conjunction)
        found, total = self._search(q, limit, offset, sort, conjunction)
        return (found, total) if total is not None else ([], 0)

    def _ranked(
        self, q: ParsedQuery, terms: _Terms, limit: int, offset: int, conjunction: bool
    ) -> tuple[list[tuple[str, float]], int]:
        """Relevance ranking with bounded work: one statement that reads at most MAX_READ
        papers' tsvectors, the papers holding the most of the query's words first.

        The papers to read come in tiers, narrowest first, each an exact GIN query: every
        one of the (up to MAX_TIER_WORDS) rarest words; then all but the most common of
        those; ... then the rarest word alone; then any rare word (`_candidates`). With
        phrases (or `conjunction`) every tier holds the phrases' words (or all the words)
        and the free words are added rarest first. A tier excludes the narrower one, so no
        paper is read twice, and the reading stops at MAX_READ papers: a query of common
        words stops inside its first tiers, where the best-ranked papers are, without
        touching the rest. See `_read_and_rank` for what happens to each paper read."""
        stats = self._stats_now()
        _, _, freqs, floor = stats
        rarest = sorted(terms.words, key=lambda lex: (freqs.get(lex, floor), lex))
        must = list(dict.fromkeys(lex for words in terms.phrases for lex in words))
        if conjunction:
            must = list(dict.fromkeys(must + terms.words))
        extra = [lex for lex in rarest if lex not in must][:MAX_TIER_WORDS]
        wide: list[str] = []
        estimate = 0
        if must:
            tiers = [must + extra[:n] for n in range(len(extra), -1, -1)]
        else:
            wide, estimate = self._candidates(terms.words)
            tiers = [extra[:n] for n in range(len(extra), 0, -1)]
        texts = []
        for number, tier in enumerate(tiers):
            text = " & ".join(map(_tsquery_term, tier))
            if number:  # not the papers of the narrower tier, read before it
                text += " & !" + _tsquery_term(extra[len(tier) - len(must)])
            texts.append(text)
        if wide and wide != extra[:1]:
            texts.append(
                "(" + " | ".join(map(_tsquery_term, wide)) + ") & !" + _tsquery_term(extra[0])
            )
        not_terms = "".join(f" & !{_tsquery_term(lex)}" for lex in terms.excluded)
        texts = [f"({text}){not_terms}" for text in texts]
        import psycopg

        try:
            with self.store.transaction() as conn:
                # The GIN index, always: with a LIMIT the planner may take a sequential scan
                # that checks (and detoasts) row after row until it has enough.
                conn.execute(
                    "SELECT set_config('enable_seqscan', 'off', true), "
                    "set_config('statement_timeout', ?, true)",
                    (str(STATEMENT_TIMEOUT_MS),),
                )
                found, matched, read = self._read_and_rank(
                    conn, q, terms, terms.scored(stats), texts, limit + offset
                )
        except psycopg.errors.QueryCanceled:
            raise KeywordIndexError(
                f"the keyword search took longer than {STATEMENT_TIMEOUT_MS / 1000:g} s and "
                "was stopped; try fewer common words or a phrase"
            ) from None
        # How many match. Read to the end: counted (but a word query's papers holding only
        # its common words were never candidates: the statistics' estimate of papers holding
        # any of its words). Cut: the share read that passed the checks, scaled to the papers
        # holding the tiers' words by the statistics (filters aside).
        if read < MAX_READ:
            if not (q.has_filters or must or set(wide) >= set(terms.words)):
                matched = max(matched, estimate)
        else:
            held = self._estimate(must, True) if must else estimate
            matched = max(matched, int(held * matched / read))
        return found[offset : offset + limit], matched

    def _read_and_rank(
        self,
        conn: Any,
        q: ParsedQuery,
        terms: _Terms,
        lexemes: list[str],
        tiers: list[str],
        want: int,
    ) -> tuple[list[tuple[str, float]], int, int]:
        """The best `want` papers among the first MAX_READ that the GIN index gives for the
        tier tsqueries in turn (and the filters), those that pass the phrase checks; also
        how many passed and how many were read. Each tsvector is detoasted once (`d`), for
        the checks and for every lexeme's rank; the LIMIT over the UNION ALL stops the
        reading (a tier's index scan starts only when the tiers before it ran out)."""
        filters = _Where()
        filters._filters(q, on_rows=True)
        checks = _Where()
        for phrase in terms.phrase_texts:
            checks._add(f"c.d @@ phraseto_tsquery('{TEXT_CONFIG}', ?)", phrase)
        for excluded in terms.excluded_phrases:
            checks._add(f"NOT (c.d @@ phraseto_tsquery('{TEXT_CONFIG}', ?))", excluded)
        score, score_params = self._score(lexemes, "c.d")
        where = "".join(" AND " + part for part in filters.parts)
        branch = (
            f"(SELECT s.paper_id, s.doc || ''::tsvector AS d FROM paper_search s "
            f"WHERE s.doc @@ ?::tsquery{where} LIMIT ?)"
        )
        sql = (
            f"SELECT paper_id, score, ok, count(*) FILTER (WHERE ok) OVER (), count(*) OVER () "
            f"FROM (SELECT c.paper_id, {score} AS score, {checks.sql or 'TRUE'} AS ok "
            f"FROM (SELECT paper_id, d FROM ({' UNION ALL '.join([branch] * len(tiers))}) u "
            f"LIMIT ?) c OFFSET 0) r "
            f"ORDER BY ok DESC, score DESC, paper_id LIMIT ?"
        )
        params: list[Any] = [*score_params, *checks.params]
        for tier in tiers:
            params += [tier, *filters.params, MAX_READ]
        rows = conn.execute(sql, (*params, MAX_READ, want)).fetchall()
        if not rows:
            return [], 0, 0
        hits = [(pid, float(score)) for pid, score, ok, _, _ in rows if ok]
        return hits, int(rows[0][3]), int(rows[0][4])

    def _estimate(self, lexemes: list[str], all_of: bool) -> float:
        """How many papers hold all (or any) of these lexemes, by the planner's statistics
        taken as independent: the total of a query whose first stage was cut."""
        _, total, freqs, floor = self._stats_now()
        share = [min(freqs.get(lex, floor), 1.0) for lex in lexemes]
        if all_of:
            return total * math.prod(share)
        return total * (1.0 - math.prod(1.0 - f for f in share))

    def _search(
        self,
        q: ParsedQuery,
        limit: int,
        offset: int,
        sort: str,
        conjunction: bool,
    ) -> tuple[list[tuple[str, float]], int | None]:
        """Sorted by date or upvotes, or a query without words to rank (filters only): the
        matches in that order, the newest first. The total is counted up to MAX_COUNT."""
        where = _Where()
        if not where.query(q, conjunction):
            return [], None
        join = ""
        if sort == "upvotes":
            score, order = "p.upvotes", "score DESC, day DESC, paper_id DESC"
            join = "JOIN papers p ON p.id = s.paper_id"
        elif sort == "date":
            score, order = "s.day", "day DESC, paper_id DESC"
        else:
            score, order = "0.0", "day DESC, paper_id DESC"
        sql = (
            f"SELECT paper_id, score FROM (SELECT s.paper_id, s.day, {score} AS score "
            f"FROM paper_search s {join} WHERE {where.sql}) r ORDER BY {order} LIMIT ? OFFSET ?"
        )
        rows = self.store.conn.execute(sql, (*where.params, limit, offset)).fetchall()
        found = [(pid, float(score)) for pid, score in rows]
        return found, self._count(where, len(found), limit, offset)

    def _terms(self, q: ParsedQuery) -> _Terms:
        """The query's words, phrases and exclusions as the index's lexemes (stemmed, stop
        words gone), in one round trip."""
        words, phrases, excluded = _words(q.words), _phrases(q.phrases), _phrases(q.excluded)
        texts = [" ".join(words), *phrases, *excluded]
        rows = self.store.conn.execute(
            f"SELECT array(SELECT lexeme FROM unnest(to_tsvector('{TEXT_CONFIG}', t.x)) "
            f"ORDER BY lexeme) FROM unnest(?::text[]) WITH ORDINALITY AS t(x, n) ORDER BY t.n",
            (texts,),
        ).fetchall()
        parts = [list(row[0] or []) for row in rows]
        terms = _Terms(words=parts[0])
        for text, lexemes in zip(phrases, parts[1 : 1 + len(phrases)]):
            if lexemes:
                terms.phrases.append(lexemes)
                terms.phrase_texts.append(text)
        for text, lexemes in zip(excluded, parts[1 + len(phrases) :]):
            if len(lexemes) == 1:
                terms.excluded.append(lexemes[0])  # exact in the GIN index
            elif lexemes:
                terms.excluded_phrases.append(text)  # positions: checked on each read paper
        return terms

    def _lexemes(self, q: ParsedQuery) -> list[str]:
        """The query's words and phrases as the index's lexemes."""
        return self._terms(q).lexemes

    def _candidates(self, lexemes: list[str]) -> tuple[list[str], int]:
        """The widest papers worth ranking, as the lexemes any of which they hold, and an
        estimate of how many papers hold any of the query's lexemes (the `total`).

        Ranking every paper that holds any query word means ranking most of the collection
        when a query has a common word ("model", "use"); such a paper with none of the rarer
        words almost never reaches the top 100. So the widest tier is the papers holding a
        lexeme rarer than CANDIDATE_FREQ (or the query's rarest one)."""
        _, total, freqs, floor = self._stats_now()
        freq = {lex: min(freqs.get(lex, floor), 1.0) for lex in lexemes}
        estimate = int(total * (1.0 - math.prod(1.0 - f for f in freq.values())))
        rare = [lex for lex in lexemes if freq[lex] <= CANDIDATE_FREQ] or [
            min(lexemes, key=lambda lex: (freq[lex], lex))
        ]
        return rare, estimate

    def _score(self, lexemes: list[str], doc: str = "s.doc") -> tuple[str, list[str]]:
        """The score expression: the sum over the query's lexemes of idf x saturated ts_rank."""
        weights = self._idf(lexemes)
        parts = [
            f"{weights[lex]:.6f} * {RANK_FUNCTION}('{RANK_WEIGHTS}', {doc}, ?::tsquery, "
            f"{RANK_NORMALIZATION})"
            for lex in lexemes
        ]
        return "(" + " + ".join(parts) + ")", [_tsquery_term(lex) for lex in lexemes]

    def _stats_now(self) -> _Stats:
        now = time.monotonic()
        if self._stats is None or now - self._stats[0] > STATS_TTL:
            self._stats = (now, *self._read_stats())
        return self._stats

    def _idf(self, lexemes: list[str]) -> dict[str, float]:
        """BM25's idf, ln(1 + (N - n + 0.5) / (n + 0.5)), with n from the planner's statistics;
        a lexeme too rare to be listed counts as half as frequent as the rarest listed one."""
        _, total, freqs, floor = self._stats_now()
        idf = {}
        for lex in lexemes:
            n = freqs.get(lex, floor) * total
            idf[lex] = math.log(1 + (total - n + 0.5) / (n + 0.5))
        return idf

    def _read_stats(self) -> tuple[float, dict[str, float], float]:
        total = self.store.conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'paper_search'::regclass"
        ).fetchone()[0]
        if total is None or total < 1:  # never analyzed yet
            total = self.count()
        row = self.store.conn.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'paper_search' AND attname = 'doc'"
        ).fetchone()
        if not row or not row[0]:
            return float(max(total, 1)), {}, 0.0
        elems, freqs = row
        listed = dict(zip(elems, freqs[: len(elems)]))  # the extra entries are min, max, nulls
        return float(max(total, 1)), listed, min(listed.values()) / 2

    def analyze(self) -> None:
        """Refresh the planner's statistics (the lexeme frequencies idf is read from)."""
        self.store.conn.execute("ANALYZE paper_search")
        self._stats = None

    def _count(self, where: _Where, shown: int, limit: int, offset: int) -> int:
        """How many papers match: known when this page is the last, else counted up to
        MAX_COUNT (a filter or a common word can match most of the collection), past which
        the planner's estimate stands in."""
        if 0 < shown < limit or (not shown and not offset):
            return offset + shown
        count: int = self.store.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM paper_search s WHERE {where.sql} LIMIT ?) x",
            (*where.params, MAX_COUNT),
        ).fetchone()[0]
        if count < MAX_COUNT:
            return count
        plan = self.store.conn.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM paper_search s WHERE {where.sql}", where.params
        ).fetchone()[0]
        return max(count, int(plan[0]["Plan"]["Plan Rows"]))

    def allowed_ids(self, q: ParsedQuery, ids: list[str]) -> set[str]:
        """Which of `ids` satisfy the query's phrases, filters and exclusions."""
        if not ids or not has_constraints(q):
            return set(ids)
        where = _Where()
        if not where.constraints(q):
            return set(ids)
        rows = self.store.conn.execute(
            f"SELECT s.paper_id FROM paper_search s WHERE s.paper_id = ANY(?) AND {where.sql}",
            (list(ids), *where.params),
        ).fetchall()
        return {r[0] for r in rows}


@dataclass
class _Terms:
    """A query's text as the index's lexemes: free words, each phrase's words (and the
    phrase as typed, for the position check), one-word exclusions, excluded phrases."""

    words: list[str]
    phrases: list[list[str]] = field(default_factory=list)
    phrase_texts: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    excluded_phrases: list[str] = field(default_factory=list)

    @property
    def lexemes(self) -> list[str]:
        """Every lexeme that ranks (words and phrases), sorted."""
        return sorted(set(self.words).union(*self.phrases))

    def scored(self, stats: _Stats) -> list[str]:
        """The lexemes that rank: all of them, or the MAX_SCORED rarest of a long query."""
        lexemes = self.lexemes
        if len(lexemes) <= MAX_SCORED:
            return lexemes
        _, _, freqs, floor = stats
        return sorted(sorted(lexemes, key=lambda lex: freqs.get(lex, floor))[:MAX_SCORED])


class _Where:
    """The WHERE clause of a parsed query over `paper_search s`, with its parameters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts)

    def _add(self, sql: str, *params: Any) -> None:
        self.parts.append(sql)
        self.params.extend(params)

    def query(self, q: ParsedQuery, conjunction: bool) -> bool:
        """The whole query; False when nothing can match (no words, no filters)."""
        must = 0
        for phrase in _phrases(q.phrases):
            self._add(f"s.doc @@ phraseto_tsquery('{TEXT_CONFIG}', ?)", phrase)
            must += 1
        words = _words(q.words)
        if words and not must:  # with a phrase, the other words only rank
            joiner = " && " if conjunction else " || "
            self._add(
                "s.doc @@ ("
                + joiner.join([f"plainto_tsquery('{TEXT_CONFIG}', ?)"] * len(words))
                + ")",
                *words,
            )
            must += 1
        must += self._filters(q)
        self._exclusions(q)
        if not must and not q.excluded:
            return False
        if not self.parts:
            self.parts.append("TRUE")
        return True

    def constraints(self, q: ParsedQuery) -> bool:
        """Only what every result must satisfy: phrases, filters, exclusions."""
        for phrase in _phrases(q.phrases):
            self._add(f"s.doc @@ phraseto_tsquery('{TEXT_CONFIG}', ?)", phrase)
        self._filters(q)
        self._exclusions(q)
        return bool(self.parts)

    def _filters(self, q: ParsedQuery, on_rows: bool = False) -> int:
        """`on_rows`: categories and dates checked on each row the words' GIN tiers give
        (bounded by MAX_READ), not through their own indexes: a common category's bitmap
        (cs.CL: a third of the papers) costs more than the rows it would spare."""
        count = 0
        for author in q.authors:
            name = " ".join(_SAFE.sub(" ", fold(author)).split())
            if name:
                self._add(f"s.names @@ phraseto_tsquery('{NAME_CONFIG}', ?)", name)
                count += 1
        categories, day = (
            ("coalesce(s.categories, '{}')", "(s.day + 0)")
            if on_rows
            else ("s.categories", "s.day")
        )
        if q.categories:
            self._add(f"{categories} && ?::text[]", list(q.categories))
            count += 1
        if q.date_from:
            self._add(f"{day} >= ?", day_number(q.date_from))
            count += 1
        if q.date_to:
            self._add(f"{day} <= ?", day_number(q.date_to))
            count += 1
        if q.has_code is not None:
            self._add("s.has_code = ?", bool(q.has_code))
            count += 1
        return count

    def _exclusions(self, q: ParsedQuery) -> None:
        for excluded in _phrases(q.excluded):
            self._add(f"NOT (s.doc @@ phraseto_tsquery('{TEXT_CONFIG}', ?))", excluded)


def _tsquery_term(lexeme: str) -> str:
    """One lexeme as tsquery text, quoted as its syntax wants (no stemming again)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def index_words(text: str) -> str:
    """A title's, an abstract's or the authors' text as the query side splits it (`_words`):
    each run of characters that are not letters, digits or "_" becomes a space. PostgreSQL's
    parser alone indexes "GPT-4" as "gpt" and the signed number "-4", "5-10 mm" as 5 and -10,
    and "Qwen2.5" as one token, none of which the query's words (4, 10, qwen2 5) matched.
    Rows written before 2026-12-03 keep that reading until their paper changes or
    `paperboy index` rebuilds the index (docs/deploy.md)."""
    return _SAFE.sub(" ", text)


def _words(words: list[str]) -> list[str]:
    """Free words split as the embedded index splits them (self-attention: self, attention)."""
    return [part for w in words for part in _SAFE.sub(" ", w).split()]


def _phrases(phrases: list[str]) -> list[str]:
    return [text for text in (" ".join(_SAFE.sub(" ", p).split()) for p in phrases) if text]


# == vectors =====================================================================================


def ensure_vector_table(store: PostgresStore) -> None:
    """The pgvector extension and the table of vectors (not a migration: it needs pgvector,
    which the rest of the store does not)."""
    import psycopg

    try:
        with store.schema_transaction() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS paper_vectors (model TEXT NOT NULL, "
                "paper_id TEXT NOT NULL, hash BIGINT NOT NULL, embedding HALFVEC NOT NULL, "
                "PRIMARY KEY (model, paper_id))"
            )
    except psycopg.Error as exc:
        raise PgSearchError(
            f"semantic search on PostgreSQL needs the pgvector extension ({exc}); install it "
            "on the server (the pgvector/pgvector image, or the postgresql-NN-pgvector "
            "package) and run `CREATE EXTENSION vector` as a superuser, or set "
            'search_backend = "files" to keep the search indexes in files'
        ) from None


def _vector_text(row: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.5g}" for x in row.tolist()) + "]"


def _copy_payload(model: str, ids: list[str], hashes: list[int], vectors: np.ndarray) -> bytes:
    """Rows (model, paper id, hash, halfvec) in COPY's binary format: float16 straight from
    numpy, where the text format would print and parse every number (3x slower at 1M rows).
    A halfvec on the wire: dimensions (int16), an unused int16, then big-endian float16s."""
    half = np.asarray(vectors, dtype=np.float32).astype(">f2")
    dim = half.shape[1] if half.ndim == 2 else 0
    vec_head = struct.pack(">ihh", 4 + 2 * dim, dim, 0)
    model_field = _text_field(model)
    parts = [b"PGCOPY\n\xff\r\n\x00", struct.pack(">ii", 0, 0)]
    for pid, h, row in zip(ids, hashes, half):
        parts += [
            b"\x00\x04",
            model_field,
            _text_field(pid),
            struct.pack(">iq", 8, h),
            vec_head,
            row.tobytes(),
        ]
    parts.append(b"\xff\xff")
    return b"".join(parts)


def _text_field(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">i", len(data)) + data


def _parse_vector(text: str) -> np.ndarray:
    return np.array(text.strip("[]").split(","), dtype=np.float32)


class PgVectors:
    """One model's vectors as rows of `paper_vectors`: the VectorIndex interface."""

    def __init__(self, store: PostgresStore, model: str, dim: int, indexed: bool = True):
        self.store = store
        self.model = model
        self.dim = int(dim)
        self.indexed = indexed  # passages are only scored by id: no HNSW graph for them
        self.folder = None
        self._model_sql = _literal(model)
        self._cast = f"halfvec({self.dim})"
        self._count: tuple[float, int] | None = None

    # -- state -------------------------------------------------------------------------------
    @property
    def _key(self) -> str:
        return f"search:vectors:{self.model}"

    @property
    def watermark(self) -> int:
        return int(self.store.get_state(self._key + ":watermark") or 0)

    def follow_weights(self, weights: str) -> None:
        """Drop this model's rows when other weights made them (a new static table shipped):
        the watermark goes back to 0 and the next update re-encodes every paper. The new
        weights are recorded in the same transaction, so only one process drops them."""
        key = self._key + ":weights"
        with self.store.transaction() as conn:
            row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
            if (row[0] if row else self.model) == weights:
                return
            self.store.set_state(key, weights, conn)
            self.store.set_state(self._key + ":watermark", "0", conn)
            conn.execute("DELETE FROM paper_vectors WHERE model = ?", (self.model,))
        self._count = None

    def save(self, watermark: int | None = None) -> None:
        """Rows are committed by `put()`; here: build the HNSW index the first time there are
        rows (after a bulk load, once), then record the watermark, which vouches for them."""
        if self.indexed and len(self):
            self._ensure_index()
        if watermark is not None:
            self.store.set_state(self._key + ":watermark", str(int(watermark)))
        self._count = None

    def _index_name(self) -> str:
        return f"paper_vectors_hnsw_{_slug(self.model)}_{self.dim}"

    def _ensure_index(self) -> None:
        name = self._index_name()
        exists = self.store.conn.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = ?", (name,)
        ).fetchone()
        if exists:
            return
        with self.store.transaction() as conn:
            conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON paper_vectors USING hnsw "
                f"((embedding::{self._cast}) halfvec_cosine_ops) WITH (m = 16, "
                f"ef_construction = 128) WHERE model = {self._model_sql}"
            )

    # -- writing -----------------------------------------------------------------------------
    def put(self, ids: list[str], vectors: np.ndarray, hashes: Any = None) -> None:
        if not len(ids):
            return
        hashes = [0] * len(ids) if hashes is None else [int(h) for h in hashes]
        payload = _copy_payload(self.model, [str(pid) for pid in ids], hashes, vectors)
        with self.store.transaction() as conn:
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS paper_vectors_load (model TEXT, paper_id TEXT, "
                "hash BIGINT, embedding HALFVEC) ON COMMIT DELETE ROWS"
            )
            conn.copy_binary(
                "paper_vectors_load", ["model", "paper_id", "hash", "embedding"], payload
            )
            conn.execute(
                "INSERT INTO paper_vectors (model, paper_id, hash, embedding) "
                "SELECT model, paper_id, hash, embedding FROM paper_vectors_load "
                "ON CONFLICT (model, paper_id) DO UPDATE SET hash = excluded.hash, "
                "embedding = excluded.embedding"
            )
        self._count = None

    def put_quantized(
        self, ids: list[str], codes: np.ndarray, scales: np.ndarray, hashes: Any
    ) -> None:
        """Rows given as int8 codes with one scale each (the demo's shipped vectors)."""
        rows = (
            np.asarray(codes, np.int8).astype(np.float32) * np.asarray(scales, np.float32)[:, None]
        )
        self.put([str(i) for i in ids], rows, hashes)

    def remove(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            with self.store.transaction() as conn:
                conn.execute(
                    "DELETE FROM paper_vectors WHERE model = ? AND paper_id = ANY(?)",
                    (self.model, ids),
                )
            self._count = None

    def clear(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM paper_vectors WHERE model = ?", (self.model,))
        self._count = None

    # -- reading -----------------------------------------------------------------------------
    def __len__(self) -> int:
        now = time.monotonic()
        if self._count is None or now - self._count[0] > COUNT_TTL:
            n = self.store.conn.execute(
                "SELECT count(*) FROM paper_vectors WHERE model = ?", (self.model,)
            ).fetchone()[0]
            self._count = (now, int(n))
        return self._count[1]

    def __contains__(self, pid: str) -> bool:
        return (
            self.store.conn.execute(
                "SELECT 1 FROM paper_vectors WHERE model = ? AND paper_id = ?", (self.model, pid)
            ).fetchone()
            is not None
        )

    @property
    def ids(self) -> list[str]:
        return [
            r[0]
            for r in self.store.conn.execute(
                "SELECT paper_id FROM paper_vectors WHERE model = ? ORDER BY paper_id",
                (self.model,),
            ).fetchall()
        ]

    def id_set(self) -> set[str]:
        return set(self.ids)

    def stale(self, pairs: list[tuple[str, int]]) -> set[str]:
        """Which papers have no vector, or one computed from another text (by its hash)."""
        if not pairs:
            return set()
        rows = self.store.conn.execute(
            "SELECT paper_id, hash FROM paper_vectors WHERE model = ? AND paper_id = ANY(?)",
            (self.model, [pid for pid, _ in pairs]),
        ).fetchall()
        have = dict(rows)
        return {pid for pid, h in pairs if have.get(pid) != int(h)}

    def vector(self, pid: str) -> np.ndarray | None:
        row = self.store.conn.execute(
            "SELECT embedding::text FROM paper_vectors WHERE model = ? AND paper_id = ?",
            (self.model, pid),
        ).fetchone()
        return _parse_vector(row[0]) if row else None

    def scores(self, query: np.ndarray, ids: list[str]) -> dict[str, float]:
        """Cosine of the query with each of these papers (those that have a vector)."""
        if not ids:
            return {}
        rows = self.store.conn.execute(
            "SELECT paper_id, 1 - (embedding <=> ?::halfvec) FROM paper_vectors "
            "WHERE model = ? AND paper_id = ANY(?)",
            (_vector_text(np.asarray(query, np.float32).reshape(-1)), self.model, list(ids)),
        ).fetchall()
        return {pid: float(s) for pid, s in rows}

    def search(self, query: np.ndarray, k: int = 100) -> list[tuple[str, float]]:
        """The k papers closest to `query`, best first (through the HNSW index)."""
        if k <= 0:
            return []
        vec = _vector_text(np.asarray(query, np.float32).reshape(-1))
        distance = f"(embedding::{self._cast} <=> ?::{self._cast})"
        with self.store.transaction() as conn:  # one transaction: SET LOCAL applies to the query
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, min(int(k), 1000))}")
            rows = conn.execute(
                f"SELECT paper_id, 1 - {distance} FROM paper_vectors "
                f"WHERE model = {self._model_sql} ORDER BY {distance} LIMIT ?",
                (vec, vec, int(k)),
            ).fetchall()
        return [(pid, float(s)) for pid, s in rows]
