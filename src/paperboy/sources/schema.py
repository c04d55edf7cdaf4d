"""What every per-format schema is made of: field types that check type, size and encoding.

Each source module declares one schema for its upstream's record (`HFItem` in hf.py,
`SnapshotLine` and `ListingLine` in files.py, `ApiEntry`, `OaiRecord`, `RssEntry`), built from
the types below, and reads a record only after `validate` has passed it:

    class ListingLine(Record):
        id: IdText
        title: Title | None = None

    line = validate(ListingLine, json.loads(raw))
    # or RecordError("title: expected a string, got array")

The schemas are pydantic models in strict mode: no coercion (a number is no title, `true` is no
upvote count), unknown fields ignored (upstreams add fields all the time), lone surrogates
refused. Pydantic is here already (FastAPI is built on it), its validation core is compiled
(about a microsecond per field), and its errors name the field's path, which `validate` turns
into one line a user can act on. The numbers come from `paperboy.bounds`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from paperboy import bounds
from paperboy.sources import RecordError


class Record(BaseModel):
    """The base of every schema: strict types, extra fields ignored, read-only."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)


def text(limit: int):
    """A string of at most `limit` characters (surrogates are refused by every `str` field)."""
    return Annotated[str, StringConstraints(max_length=limit)]


def list_of(kind, most: int):
    """A list of at most `most` items of `kind`."""
    return Annotated[list[kind], Field(max_length=most)]


def _iso_day(value: str) -> date | None:
    """An ISO date or timestamp (its date part), inside the dates a paper can have."""
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not a date (expected YYYY-MM-DD...)") from None
    problem = bounds.day_problem(day)
    if problem:
        raise ValueError(problem)
    return day


IdText = text(bounds.ID_CHARS)
Title = text(bounds.TITLE_CHARS)
Abstract = text(bounds.ABSTRACT_CHARS)
AuthorName = text(bounds.AUTHOR_CHARS)
AuthorsText = text(bounds.AUTHORS_TOTAL_CHARS)  # one string naming every author
Comment = text(bounds.COMMENT_CHARS)
JournalRef = text(bounds.JOURNAL_REF_CHARS)
Doi = text(bounds.DOI_CHARS)
License = text(bounds.LICENSE_CHARS)
Url = text(bounds.URL_CHARS)  # scheme and host: sources.checked_links, and where rendered
Category = text(bounds.CATEGORY_CHARS)
CategoriesText = text(bounds.CATEGORIES * (bounds.CATEGORY_CHARS + 1))  # space-separated
Keyword = text(bounds.KEYWORD_CHARS)
Name = text(bounds.NAME_CHARS)
DateText = text(bounds.DATE_CHARS)
Day = Annotated[DateText, AfterValidator(_iso_day)]
Count = Annotated[int, Field(ge=0, le=bounds.COUNT_MAX)]

M = TypeVar("M", bound=Record)
MAX_REASONS = 3  # a record wrong in many ways is rejected with its first few reasons


def validate(model: type[M], data: Any, prefix: str = "") -> M:
    """`data` as `model`, or `RecordError` naming each wrong field and why (after `prefix`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        reasons = [reason(error) for error in errors[:MAX_REASONS]]
        more = len(errors) - MAX_REASONS
        raise RecordError(
            prefix + "; ".join(reasons) + (f" (and {more} more)" if more > 0 else "")
        ) from None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (what the user wrote, not Python's word)."""
    names = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "list_type": "an array",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
}


def reason(error: dict) -> str:
    """One pydantic error as `field.path: what was wrong`."""
    where = _path(error["loc"])
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "missing":
        return f"missing required field {where!r}"
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]}, got {json_type(value)}"
    if kind == "string_unicode":
        return f"{where}: not valid Unicode (a lone surrogate such as \\ud800)"
    if kind == "string_too_long":
        return f"{where}: {len(value):,} characters, more than the {ctx['max_length']:,} allowed"
    if kind == "too_long":
        return f"{where}: {len(value):,} items, more than the {ctx['max_length']:,} allowed"
    if kind in ("less_than_equal", "greater_than_equal"):
        shown = str(value) if len(str(value)) <= 40 else f"a number of {len(str(value))} digits"
        side = f"more than {ctx['le']:,}" if "le" in ctx else f"less than {ctx['ge']:,}"
        return f"{where}: {shown} is {side}"
    if kind == "value_error":
        return f"{where}: {ctx.get('error', error['msg'])}"
    return f"{where}: {error['msg']}"


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "record"
