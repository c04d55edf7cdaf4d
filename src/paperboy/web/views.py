"""What the templates, the API and the feeds show of a paper: vote counts, short author lists,
abstract blurbs, BibTeX. Pure functions over `Paper` records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from paperboy import latex
from paperboy.links import allowed_url
from paperboy.papers import Paper
from paperboy.store.media import StarCount

AUTHORS_SHOWN = 3
HF_PAPERS = "https://huggingface.co/papers/"
BLURB_CHARS = 300


@dataclass
class Card:
    """A paper as a feed shows it: shown votes (upstream + local) and whether I voted."""

    paper: Paper
    votes: int
    voted: bool = False
    title_html: str | None = None  # with search highlights, when from a search
    blurb_html: str | None = None
    talk: int = 0  # shown comments in the paper's discussion here (web/discussions.py)
    thumbnail: str | None = None  # the URL of its first page's image (web/media.py)
    stars: StarCount | None = None  # its GitHub repository's stars and their growth

    @property
    def stars_per_day(self) -> float:
        return self.stars.per_day if self.stars else 0.0

    @property
    def day(self) -> date | None:
        return self.paper.entry.day if self.paper.entry else None

    @property
    def authors_short(self) -> str:
        return authors_short(self.paper.authors)

    @property
    def blurb(self) -> str:
        return blurb(self.paper.abstract)

    @property
    def organization(self) -> str | None:
        e = self.paper.entry
        return (e.organization_name or e.organization) if e else None

    @property
    def comments(self) -> int:
        """Comments on the paper's Hugging Face page (copied from upstream; none are here)."""
        return (self.paper.entry.num_comments or 0) if self.paper.entry else 0

    @property
    def comments_url(self) -> str | None:
        """Where those comments are: the paper's Hugging Face page (through the allow-list)."""
        return allowed_url(f"{HF_PAPERS}{self.paper.id}")


def plural(count: int, word: str) -> str:
    """'1 upvote', '2 upvotes', '0 upvotes'."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def authors_short(authors: list[str]) -> str:
    """'A, B, C and 9 others' style: the first few names and how many more."""
    if len(authors) <= AUTHORS_SHOWN + 1:
        return ", ".join(authors)
    rest = len(authors) - AUTHORS_SHOWN
    return f"{', '.join(authors[:AUTHORS_SHOWN])} and {rest} others"


def blurb(text: str, limit: int = BLURB_CHARS) -> str:
    """The start of an abstract, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(",;:.") + " …"


def paper_year(paper: Paper) -> int | None:
    if paper.published:
        return paper.published.year
    m = re.match(r"(\d{2})(\d{2})\.", paper.id) or re.search(r"/(\d{2})(\d{2})", paper.id)
    if not m:
        return None
    yy = int(m[1])
    return (1900 if yy >= 91 else 2000) + yy


def bibtex(paper: Paper) -> str:
    """A @misc BibTeX entry in the form arXiv itself suggests for preprints."""
    year = paper_year(paper)
    first_author = paper.authors[0].split()[-1] if paper.authors else "anon"
    title_words = re.findall(r"[A-Za-z]+", latex.to_text(paper.title))  # not \textbf's "textbf"
    first_word = next((w for w in title_words if len(w) > 3), "paper")
    key = re.sub(r"[^A-Za-z0-9]", "", f"{first_author}{year or ''}{first_word}").lower()
    fields = [
        ("title", paper.title),
        ("author", " and ".join(paper.authors) or "Unknown"),
        ("year", str(year) if year else None),
        ("eprint", paper.id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", paper.primary_category),
        ("url", paper.abs_url),
    ]
    body = ",\n".join(f"  {name}={{{value}}}" for name, value in fields if value)
    return f"@misc{{{key},\n{body}\n}}"
