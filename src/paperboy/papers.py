"""The domain record that flows end to end, and the arXiv id parser.

A source yields `Paper` records, the store keeps them, the index reads them and the web and
mail render them. `parse_arxiv_id` turns anything a user pastes (an id, an `arXiv:` reference,
an arXiv abs/PDF/HTML URL, a Hugging Face paper URL) into one canonical `ArxivId`.
`Paper.without_unsafe_links` empties the outside links that fail `paperboy.links`' allow-list.

    >>> parse_arxiv_id("https://arxiv.org/pdf/2405.15738v2.pdf")
    ArxivId(id='2405.15738', version=2)
    >>> parse_arxiv_id("math.GT/0309136v1").id
    'math/0309136'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from paperboy.links import doi_problem, link_problem


class InvalidArxivId(ValueError):
    """Raised for text that is no arXiv identifier; the message says what was expected."""


EXPECTED_FORMS = (
    "an arXiv id such as 2405.15738, 2405.15738v2, hep-th/9901001 or arXiv:2405.15738, "
    "or an arxiv.org (abs, pdf, html) or huggingface.co/papers URL"
)

# New style (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN since 2015.
_NEW = re.compile(r"(?P<id>\d{2}(?:0[1-9]|1[0-2])\.\d{4,5})(?:v(?P<v>\d+))?")
# Old style: archive[.SUBJECT]/YYMMNNN. The subject class is not part of the identifier:
# arXiv resolves math.GT/0309136 to math/0309136, so we drop it too.
_OLD = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{2}(?:-[a-z]{2})?)?/(?P<num>\d{2}(?:0[1-9]|1[0-2])\d{3})"
    r"(?:v(?P<v>\d+))?"
)
_ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "xxx.lanl.gov"}
_HF_HOSTS = {"huggingface.co", "www.huggingface.co", "hf.co"}
_ARXIV_PATH = re.compile(r"^/(?:abs|pdf|html|format|ps)/(?P<rest>.+?)(?:\.pdf)?/?$")
_HF_PATH = re.compile(r"^/papers/(?P<rest>[^/]+?)/?$")


@dataclass(frozen=True, slots=True)
class ArxivId:
    """A canonical arXiv identifier: `id` has no version; `version` is None when not given."""

    id: str
    version: int | None = None

    @property
    def versioned(self) -> str:
        return f"{self.id}v{self.version}" if self.version else self.id

    def __str__(self) -> str:
        return self.versioned


def _match_bare(text: str) -> ArxivId | None:
    for pattern in (_NEW, _OLD):
        m = pattern.fullmatch(text)
        if m:
            if pattern is _NEW:
                ident = m["id"]
                # Four-digit numbers ran until 1412, five-digit ones since 1501.
                if (len(ident) == 10) != (ident[:4] >= "1501"):
                    continue
            else:
                ident = f"{m['archive']}/{m['num']}"
            return ArxivId(ident, int(m["v"]) if m["v"] else None)
    return None


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse any form a user pastes into an `ArxivId`, or raise `InvalidArxivId`."""
    if not isinstance(text, str):
        raise InvalidArxivId(f"expected {EXPECTED_FORMS}; got {type(text).__name__}")
    raw = text.strip()
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    candidate = raw
    if re.match(
        r"^(?:https?://)?(?:[\w-]+\.)*"
        r"(?:arxiv\.org|xxx\.lanl\.gov|huggingface\.co|hf\.co)/",
        raw,
        re.I,
    ):
        url = raw if "://" in raw else "https://" + raw
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        path = parts.path
        m = None
        if host in _ARXIV_HOSTS:
            m = _ARXIV_PATH.match(path)
        elif host in _HF_HOSTS:
            m = _HF_PATH.match(path)
        if not m:
            raise InvalidArxivId(f"{shown!r} is not a paper URL; expected {EXPECTED_FORMS}")
        candidate = m["rest"]
    elif candidate[:6].lower() == "arxiv:":
        candidate = candidate[6:].strip()
    found = _match_bare(candidate)
    if found is None:
        raise InvalidArxivId(f"{shown!r} is not an arXiv id; expected {EXPECTED_FORMS}")
    return found


def try_parse_arxiv_id(text: str) -> ArxivId | None:
    """Like `parse_arxiv_id`, but None instead of an error (for "is this query an id?")."""
    try:
        return parse_arxiv_id(text)
    except InvalidArxivId:
        return None


# Owner and repository names are at most 100 characters on both hosts; a longer run is no
# repository (and would make a code link past the URL limit of paperboy/bounds.py).
_CODE_URL = re.compile(
    r"https?://(?:www\.)?(?:github\.com|gitlab\.com)/[A-Za-z0-9_.-]{1,100}/"
    r"[A-Za-z0-9_.-]{1,100}(?![A-Za-z0-9_.-])",
    re.I,
)


def extract_code_url(*texts: str | None) -> str | None:
    """The first GitHub or GitLab repository URL in the texts (abstract, comment), cleaned."""
    for text in texts:
        if not text:
            continue
        # Abstracts wrap lines mid-URL rarely; joining on whitespace-free breaks is not worth it.
        for m in _CODE_URL.finditer(text):
            url = m.group(0).rstrip(".,;:)")
            if url.lower().endswith(".git"):
                url = url[:-4]
            owner_repo = url.split("/", 3)[3]
            if owner_repo.count("/") == 1 and not owner_repo.endswith("/"):
                return "https://" + url.split("://", 1)[1].removeprefix("www.")
    return None


@dataclass(slots=True)
class FeedEntry:
    """A paper's entry in the daily feed: the day it entered, and who put it there."""

    day: date
    source: str  # "hf", "arxiv", "user"
    submitted_by: str | None = None
    organization: str | None = None  # the organization's handle, e.g. "utokyo-ai"
    organization_name: str | None = None  # its display name, e.g. "The University of Tokyo"
    num_comments: int | None = None


@dataclass(slots=True)
class Paper:
    """One paper. `id` is the arXiv id without version; dates are calendar dates (UTC)."""

    id: str
    title: str
    abstract: str
    authors: list[str] = field(default_factory=list)
    version: int | None = None
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    published: date | None = None  # first version submitted
    updated: date | None = None  # latest version submitted
    announced: date | None = None  # day it was announced/listed on arXiv
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    upvotes: int | None = None  # community upvotes from an upstream (Hugging Face)
    keywords: list[str] = field(default_factory=list)
    entry: FeedEntry | None = None  # set when the source puts the paper in the daily feed
    # From Hugging Face, kept beside the paper by store/media.py (not read back into Paper):
    ai_summary: str | None = None  # a one-line machine-written summary
    github_stars: int | None = None  # the code repository's stars when the item was read

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"

    def with_code_link(self) -> Paper:
        """Fill `code_url` from the abstract or comment when the source gave none."""
        if self.code_url:
            return self
        found = extract_code_url(self.abstract, self.comment)
        return replace(self, code_url=found) if found else self

    def unsafe_links(self) -> list[tuple[str, str, str]]:
        """(field, value, why) for each outside link that may not become a link (links.py)."""
        found = []
        for name in LINK_FIELDS:
            value = getattr(self, name)
            check = doi_problem if name == "doi" else link_problem
            if value is not None and (why := check(value)) is not None:
                found.append((name, value, why))
        return found

    def without_unsafe_links(self) -> Paper:
        """The paper with every failing link field emptied (a code link found in the abstract
        may then take the dropped one's place)."""
        bad = self.unsafe_links()
        if not bad:
            return self
        cleared: dict[str, Any] = {name: None for name, _, _ in bad}
        return replace(self, **cleared).with_code_link()


# The fields that hold a URL (or DOI) from outside, which pages, feeds and mail turn into links.
LINK_FIELDS = ("code_url", "project_url", "doi")


# Control characters that are not whitespace carry nothing in paper text, and PostgreSQL
# refuses a NUL in a text column: one stray NUL in a file failed a whole import batch there.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def clean_text(text: str | None) -> str:
    """Collapse the hard line wraps arXiv puts in titles and abstracts; drop control characters."""
    return " ".join(_CONTROL.sub("", text or "").split())
