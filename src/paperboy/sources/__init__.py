"""Sources: one module per upstream, each turning what it reads into `Paper` records.

- `files`: bulk files (the arXiv metadata snapshot, HF daily-papers and arXiv listing JSONL);
- `hf`: the Hugging Face daily-papers item shape and the `/api/daily_papers` client;
- `arxiv_api`: the arXiv API (Atom): look-ups by id and searches with paging;
- `oai`: arXiv OAI-PMH `ListRecords` pages for bulk backfills;
- `rss`: the daily arXiv announcement feed (new, cross-list and replacement entries);
- `http`: the one polite HTTP client they all use (rate limit, retries, clear errors);
- `schema`: the field types of the per-format schemas each parser validates a record with.
Every paper a parser returns has passed `checked` (the limits of `paperboy.bounds`); a record
that cannot be used raises `RecordError`, and nothing else. Each source then passes every paper
through `checked_links`, which drops a link that fails the allow-list (`paperboy.links`) with a
warning naming the record and the field: the paper is kept.
"""

import logging
from dataclasses import dataclass

log = logging.getLogger("paperboy.sources")


class RecordError(ValueError):
    """One record we cannot use; the message says which field and why. The import goes on."""


def record_id(raw: str | None):
    """The arXiv id an upstream record names, or `RecordError` saying what was wrong with it."""
    from paperboy.bounds import ID_CHARS
    from paperboy.papers import InvalidArxivId, parse_arxiv_id

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


# How a warning names a link field: ours, and the upstream's name for it.
_LINK_FIELD_NAMES = {
    "code_url": "code link (githubRepo)",
    "project_url": "project page (projectPage)",
    "doi": "DOI (doi)",
}


def checked_links(paper, location: str):
    """`paper` less any link that fails the allow-list, warning once per dropped field.

    It runs on what a parser returned, so a link of the wrong type or over its length limit
    has already rejected the record (the schemas, `checked`). A text that is no safe link is
    the upstream's slip, not a reason to lose the paper: the paper is kept without it.
    """
    for name, value, why in paper.unsafe_links():
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        log.warning(
            "%s: %s: dropped the %s %s: %s; the paper is kept without it",
            location,
            paper.id,
            _LINK_FIELD_NAMES.get(name, name),
            shown,
            why,
        )
    return paper.without_unsafe_links()


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
