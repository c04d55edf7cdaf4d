"""A researcher's own library as a seed: read an uploaded BibTeX or RIS file (as Zotero,
Mendeley or Google Scholar export them) or a plain list of arXiv ids and DOIs, and match each
entry to a stored paper: by arXiv id, then DOI, then normalised title.

    entries = read_library(data, "zotero.bib")     # LibraryFileError: where and why, per entry
    result = match_library(Library(store), entries)  # .matched, .unmatched
    Library(store).replace(user.id, result.pairs())  # one transaction

BibTeX is read by bibtexparser and RIS by rispy (well-kept parsers of formats with many
dialects; hand-written ones would miss the corners). A file with any block the parser cannot
read is refused as a whole, naming each bad entry, so nothing is half-imported; an entry that
parses but has nothing to match by is reported as unmatched, with the reason.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from paperboy.papers import try_parse_arxiv_id

MAX_BYTES = 5_000_000
MAX_ENTRIES = 10_000
MAX_ERRORS_SHOWN = 10
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s?#]+?)(?:\.pdf)?(?:[?#]|$)", re.IGNORECASE)
_ARXIV_MENTION = re.compile(
    r"\barXiv:\s*(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})", re.IGNORECASE
)
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")


class LibraryFileError(ValueError):
    """The upload cannot be read; `problems` lists (where, why) for each bad entry."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        shown = "; ".join(f"{where}: {why}" for where, why in problems[:MAX_ERRORS_SHOWN])
        more = len(problems) - MAX_ERRORS_SHOWN
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


@dataclass(frozen=True)
class LibraryEntry:
    where: str  # "line 12 (@article{vaswani2017})", for messages
    arxiv: str | None = None
    doi: str | None = None
    title: str | None = None

    @property
    def label(self) -> str:
        return self.title or self.arxiv or self.doi or self.where


@dataclass
class LibraryMatch:
    matched: list[tuple[LibraryEntry, str, str]] = field(default_factory=list)  # entry, id, how
    unmatched: list[tuple[LibraryEntry, str]] = field(default_factory=list)  # entry, why

    def pairs(self) -> list[tuple[str, str]]:
        return [(pid, how) for _, pid, how in self.matched]


# -- reading -------------------------------------------------------------------------------
def read_library(data: bytes, filename: str = "") -> list[LibraryEntry]:
    """The entries of an upload; the format is told by its content, not its name."""
    if len(data) > MAX_BYTES:
        raise LibraryFileError(
            [(filename or "the file", f"{len(data):,} bytes, more than the {MAX_BYTES:,} allowed")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LibraryFileError(
            [
                (
                    f"byte {exc.start}",
                    ("the file is not UTF-8 text (export it as UTF-8 from your reference manager)"),
                )
            ]
        ) from None
    if not text.strip():
        raise LibraryFileError([(filename or "the file", "it is empty")])
    if re.search(r"^\s*@\w+\s*[{(]", text, re.MULTILINE):
        entries = _read_bibtex(text)
    elif re.search(r"^TY  -", text, re.MULTILINE):
        entries = _read_ris(text)
    else:
        entries = _read_list(text)
    if len(entries) > MAX_ENTRIES:
        raise LibraryFileError(
            [
                (
                    filename or "the file",
                    (f"{len(entries):,} entries, more than the {MAX_ENTRIES:,} allowed"),
                )
            ]
        )
    return entries


def _read_bibtex(text: str) -> list[LibraryEntry]:
    import bibtexparser

    parsed = bibtexparser.parse_string(text)
    problems = [
        (
            f"line {block.start_line + 1} ({_first_line(block.raw)})",
            getattr(block.error, "abort_reason", "")
            or str(block.error)
            or "cannot be read as BibTeX",
        )
        for block in parsed.failed_blocks
    ]
    if problems:
        raise LibraryFileError(problems)
    entries = []
    for entry in parsed.entries:
        fields = {k.lower(): str(f.value) for k, f in entry.fields_dict.items()}
        where = f"line {entry.start_line + 1} (@{entry.entry_type}{{{entry.key}}})"
        arxiv = _arxiv_of(
            fields.get("eprint") if _is_arxiv_eprint(fields) else None,
            fields.get("arxivid"),
            fields.get("doi"),
            fields.get("url"),
            fields.get("journal"),
        )
        entries.append(
            LibraryEntry(
                where, arxiv, _doi_of(fields.get("doi")), _clean_title(fields.get("title"))
            )
        )
    return entries


def _is_arxiv_eprint(fields: dict[str, str]) -> bool:
    kind = fields.get("archiveprefix", fields.get("eprinttype", "arxiv"))
    return kind.strip().lower() == "arxiv"


def _read_ris(text: str) -> list[LibraryEntry]:
    import rispy

    problems, starts, open_at = [], [], None
    for number, line in enumerate(text.splitlines(), 1):
        tag = _RIS_TAG.match(line)
        if tag and tag.group(1) == "TY":
            if open_at is not None:
                problems.append(
                    (f"line {open_at}", ("a record starts (TY) before the one above ended (ER)"))
                )
            open_at = number
            starts.append(number)
        elif tag and tag.group(1) == "ER":
            if open_at is None:
                problems.append((f"line {number}", "ER without a TY record start above"))
            open_at = None
        elif (
            tag is None
            and line.strip()
            and open_at is None
            and not re.fullmatch(r"\d+\.", line.strip())
        ):  # a writer's record counter
            problems.append(
                (
                    f"line {number}",
                    (
                        f"{line.strip()[:40]!r} is outside any "
                        "record (RIS lines look like 'TI  - title')"
                    ),
                )
            )
    if open_at is not None:
        problems.append((f"line {open_at}", "the record never ends (no 'ER  -' line)"))
    if problems:
        raise LibraryFileError(problems)
    records = rispy.loads(text)
    entries = []
    for start, record in zip(starts, records):
        urls = record.get("urls") or []
        doi = record.get("doi")
        arxiv = _arxiv_of(doi, *urls, record.get("notes") and " ".join(record["notes"]))
        title = record.get("title") or record.get("primary_title")
        entries.append(
            LibraryEntry(
                f"line {start} (record {len(entries) + 1})",
                arxiv,
                _doi_of(doi),
                _clean_title(title),
            )
        )
    return entries


def _read_list(text: str) -> list[LibraryEntry]:
    entries, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        arxiv, doi = _arxiv_of(item), _doi_of(item)
        if arxiv is None and doi is None:
            problems.append(
                (
                    f"line {number}",
                    (
                        f"{item[:60]!r} is neither an arXiv id nor a "
                        "DOI (and the file is not BibTeX or RIS)"
                    ),
                )
            )
        entries.append(LibraryEntry(f"line {number}", arxiv, doi))
    if problems:
        raise LibraryFileError(problems)
    return entries


def _first_line(raw: str) -> str:
    return raw.strip().splitlines()[0][:60] if raw.strip() else "empty block"


def _arxiv_of(*texts: str | None) -> str | None:
    """The arXiv id in an eprint field, an arXiv DOI (10.48550/arXiv.X), an arXiv URL or a
    mention ("arXiv preprint arXiv:2509.07980", as Google Scholar writes the journal)."""
    for text in texts:
        if not text:
            continue
        text = text.strip()
        doi = _ARXIV_DOI.match(text)
        url = _ARXIV_URL.search(text) or _ARXIV_MENTION.search(text)
        candidate = doi.group(1) if doi else url.group(1) if url else text
        found = try_parse_arxiv_id(candidate.removeprefix("arXiv:").removeprefix("arxiv:"))
        if found is not None:
            return found.id
    return None


def _doi_of(text: str | None) -> str | None:
    found = _DOI.search(text or "")
    return found.group(1).rstrip(".,;").lower() if found else None


def _clean_title(title: str | None) -> str | None:
    if not title:
        return None
    return re.sub(r"\s+", " ", title.replace("{", "").replace("}", "")).strip() or None


def normalise_title(title: str) -> str:
    """Lower case, accents and LaTeX braces/commands dropped, only letters and digits kept,
    so 'BERT: Pre-training of {Deep} Bidirectional...' matches however it was exported."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\\[a-zA-Z]+\s*", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# -- matching ------------------------------------------------------------------------------
def match_library(library, entries: list[LibraryEntry]) -> LibraryMatch:
    """Match each entry to a stored paper: arXiv id, then DOI, then normalised title.
    `library` is the store's `Library` repository (store/library.py)."""
    stored = library.lookup_arxiv(e.arxiv for e in entries if e.arxiv)
    by_doi = library.lookup_dois(e.doi for e in entries if e.doi)
    wanted = {normalise_title(e.title) for e in entries if e.title}
    by_title: dict[str, str] = {}
    if wanted:
        for pid, title in library.titles():
            key = normalise_title(title)
            if key in wanted:
                by_title.setdefault(key, pid)
    result = LibraryMatch()
    for entry in entries:
        title_key = normalise_title(entry.title) if entry.title else ""
        if entry.arxiv in stored:
            result.matched.append((entry, entry.arxiv, "arXiv id"))
        elif entry.doi and entry.doi in by_doi:
            result.matched.append((entry, by_doi[entry.doi], "DOI"))
        elif title_key and title_key in by_title:
            result.matched.append((entry, by_title[title_key], "title"))
        elif not (entry.arxiv or entry.doi or title_key):
            result.unmatched.append((entry, "no arXiv id, DOI or title to match by"))
        else:
            result.unmatched.append((entry, "not stored here"))
    return result
