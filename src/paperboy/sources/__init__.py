"""Sources: one module per upstream, each turning what it reads into `Paper` records.

- `files`: bulk files (the arXiv metadata snapshot, HF daily-papers and arXiv listing JSONL);
- `hf`: the Hugging Face daily-papers item shape and the `/api/daily_papers` client;
- `arxiv_api`: the arXiv API (Atom): look-ups by id and searches with paging;
- `oai`: arXiv OAI-PMH `ListRecords` pages for bulk backfills;
- `rss`: the daily arXiv announcement feed (new, cross-list and replacement entries);
- `http`: the one polite HTTP client they all use (rate limit, retries, clear errors);
- `schema`: the field types of the per-format schemas each parser validates a record with.
Every paper a parser returns has passed `checked` (the limits of `paperboy.bounds`); a record
that cannot be used raises `RecordError`, and nothing else.
"""

from dataclasses import dataclass


class RecordError(ValueError):
    """One record we cannot use; the message says which field and why. The import goes on."""


def record_id(raw: str | None):
    """The arXiv id an upstream record names, or `RecordError` saying what was wrong with it."""
    from paperboy.papers import InvalidArxivId, parse_arxiv_id

    from paperboy.bounds import ID_CHARS

    raw = (raw or "").strip()
    if not raw:
        raise RecordError("missing required field 'id'")
    if len(raw) > ID_CHARS:
        raise RecordError(f"id: {len(raw):,} characters, more than the {ID_CHARS} allowed")
    try:
        return parse_arxiv_id(raw)
    except InvalidArxivId as exc:
        raise RecordError(str(exc)) from None


def checked(paper, prefix: str = ""):
    """`paper` if it is within every bound (`paperboy.bounds`), else `RecordError` saying why.

    The per-format schemas check the raw fields; this checks what a parser made of them
    (split author lists, extracted links, dates), so no source can hand the store more.
    """
    from paperboy.bounds import paper_problems

    problems = paper_problems(paper)
    if problems:
        raise RecordError(prefix + "; ".join(problems[:3]))
    return paper


class SourceError(RuntimeError):
    """An upstream or file we cannot read at all; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record an upstream sent that we could not use: where it was (URL#record) and why."""

    location: str
    reason: str


class ReadItems:
    """What one upstream response held: the items read (`items`), and the rejected ones."""

    items: list

    @property
    def papers(self) -> list:
        from paperboy.papers import Paper

        return [item for item in self.items if isinstance(item, Paper)]

    @property
    def rejected(self) -> list[Rejected]:
        return [item for item in self.items if isinstance(item, Rejected)]
