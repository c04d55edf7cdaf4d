"""Every parser against generated records: a field of any type, size or encoding either passes
its format's schema and the bounds, or rejects the record with a RecordError naming the field.

Each JSON format starts from a real recorded record and replaces one field the parser reads
(nested ones too) with a generated JSON value: null, booleans, huge integers, NaN, strings with
lone surrogates, arrays, objects. A value of a type the field does not allow must be rejected
with the field's path in the reason. Each XML format replaces one element's text (or gives it
child elements, or removes it). Nothing else may be raised, and every paper a parser returns
passes `paper_problems`, so the store can take it.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperboy.bounds import paper_problems
from paperboy.sources import RecordError
from paperboy.sources.arxiv_api import paper_from_entry
from paperboy.sources.files import paper_from_record, read_file
from paperboy.sources.hf import paper_from_hf_item
from paperboy.sources.oai import paper_from_record as paper_from_oai_record
from paperboy.sources.rss import announcement_from_entry
from tests.recorded_rss import recorded_feed
from tests.replay import FIXTURES, fixture_bytes, recorded

DELETE = object()  # the generated "value" that removes the field
TODAY = date.today()

chars = st.characters(exclude_categories=())  # lone surrogates included
long_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["a", "é", "ab ", "\ud800"]), st.integers(0, 12_000)
)
dates = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**40), 10**40)
    | st.floats()
    | st.text(chars, max_size=20)
    | long_text
    | dates
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
values = json_values | st.just(DELETE)

STR = (str, type(None))
OBJ = (dict, type(None))
ARR = (list, type(None))
INT = (int, type(None))

HF_FIELDS = {
    "paper": (dict,),
    "paper.id": (str,),
    "paper.title": STR,
    "paper.summary": STR,
    "paper.authors": ARR,
    "paper.authors[0]": (dict,),
    "paper.authors[0].name": STR,
    "paper.publishedAt": STR,
    "paper.submittedOnDailyAt": STR,
    "paper.submittedOnDailyBy": OBJ,
    "paper.submittedOnDailyBy.user": STR,
    "paper.submittedOnDailyBy.fullname": STR,
    "paper.organization": OBJ,
    "paper.organization.name": STR,
    "paper.organization.fullname": STR,
    "paper.upvotes": INT,
    "paper.ai_keywords": ARR,
    "paper.ai_keywords[0]": (str,),
    "paper.githubRepo": STR,
    "paper.projectPage": STR,
    "title": STR,
    "summary": STR,
    "_daily_date": STR,
    "publishedAt": STR,
    "submittedBy": OBJ,
    "submittedBy.name": STR,
    "organization": OBJ,
    "organization.name": STR,
    "organization.fullname": STR,
    "numComments": INT,
}
SNAPSHOT_FIELDS = {
    "id": (str,),
    "title": STR,
    "abstract": STR,
    "authors": STR,
    "authors_parsed": ARR,
    "authors_parsed[0]": (list,),
    "authors_parsed[0][0]": (str,),
    "categories": STR,
    "comments": STR,
    "journal-ref": STR,
    "doi": STR,
    "license": STR,
    "versions": ARR,
    "versions[0]": (dict,),
    "versions[0].created": STR,
}
LISTING_FIELDS = {
    "id": (str,),
    "title": STR,
    "summary": STR,
    "authors": ARR,
    "authors[0]": (str,),
    "categories": ARR,
    "categories[0]": (str,),
    "comment": STR,
    "_first_listing_date": STR,
}


def _hf_base() -> dict:
    item = json.loads((FIXTURES / "hf_daily_papers_2026-08-21.json").read_text())[0]
    item = copy.deepcopy(item)
    paper = item["paper"]
    paper.update(
        submittedOnDailyBy={"user": "ada", "fullname": "Ada"},
        ai_keywords=["rl"],
        organization={"name": "org", "fullname": "An Org"},
        githubRepo="https://x.y/z",
        projectPage="https://x.y/p",
        upvotes=5,
        submittedOnDailyAt="2026-08-21",
    )
    item.update(
        submittedBy={"name": "ada"},
        organization={"name": "org", "fullname": "Org"},
        numComments=2,
        _daily_date="2026-08-21",
        title=paper["title"],
        summary=paper["summary"],
        publishedAt="2026-08-21T00:00:00Z",
    )
    return item


def _first_line(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text().splitlines()[0])


BASES = {
    "hf": (_hf_base(), HF_FIELDS),
    "snapshot": (_first_line("arxiv_snapshot_head50.jsonl"), SNAPSHOT_FIELDS),
    "listing": (_first_line("arxiv_listings_head100.jsonl"), LISTING_FIELDS),
}


def _steps(path: str) -> list:
    steps = []
    for part in path.replace("[", ".[").split("."):
        steps.append(int(part[1:-1]) if part.startswith("[") else part)
    return steps


def with_value(record: dict, path: str, value) -> dict:
    """A copy of `record` with the field at `path` (e.g. paper.authors[0].name) replaced."""
    out = copy.deepcopy(record)
    *parents, last = _steps(path)
    target = out
    for step in parents:
        target = target[step]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return out


def _outcome(parse, record):
    """(paper, None) or (None, reason); anything else raised fails the test."""
    try:
        paper = parse(record)
    except RecordError as exc:
        return None, str(exc)
    problems = paper_problems(paper)
    assert problems == [], problems
    return paper, None


@pytest.mark.parametrize("shape", sorted(BASES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_field_of_any_type_is_read_or_the_record_is_rejected_naming_it(shape, data):
    base, fields = BASES[shape]
    path = data.draw(st.sampled_from(sorted(fields)), label="field")
    value = data.draw(values, label="value")
    _paper, reason = _outcome(paper_from_record, with_value(base, path, value))
    if value is not DELETE and type(value) not in fields[path]:
        # The wrong type is named: by its path, or by the shape check for the whole record.
        assert reason is not None, f"{path} = {value!r} was accepted"
        assert path in reason or (path == "paper" and "'paper'" in reason), reason


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_paper_a_parser_accepts_is_stored_on_both_backends(store, data):
    base, fields = BASES[data.draw(st.sampled_from(sorted(BASES)), label="shape")]
    path = data.draw(st.sampled_from(sorted(fields)), label="field")
    paper, _ = _outcome(paper_from_record, with_value(base, path, data.draw(values)))
    if paper is not None:
        store.upsert([paper])  # raises on anything the database cannot hold
        assert store.get(paper.id) is not None


def test_the_real_records_pass_unchanged():
    for shape, (base, _) in BASES.items():
        paper, reason = _outcome(paper_from_record, base)
        assert reason is None and paper is not None, shape


@pytest.mark.parametrize(
    "path, value, reason",
    [
        (
            "paper.githubRepo",
            ["https://github.com/a/b"],
            "paper.githubRepo: expected a string, got array",
        ),
        ("organization.name", {"x": 1}, "organization.name: expected a string, got object"),
        ("paper.upvotes", 10**30, "paper.upvotes: 1000000000000000000000000000000 is more than"),
        ("paper.upvotes", True, "paper.upvotes: expected a whole number, got boolean"),
        ("paper.title", "A \ud800 title", "paper.title: not valid Unicode"),
        ("title", "x" * 1001, "title: 1,001 characters, more than the 1,000 allowed"),
        ("paper.summary", "x " * 5001, "paper.summary: 10,002 characters, more than the 10,000"),
        ("paper.authors", [{"name": "A"}] * 10_001, "paper.authors: 10,001 items, more than the"),
        ("_daily_date", "9999-01-01", "_daily_date: date 9999-01-01 is outside 1991-01-01..today"),
    ],
)
def test_hf_items_name_the_field_and_the_limit(path, value, reason):
    _, got = _outcome(paper_from_hf_item, with_value(_hf_base(), path, value))
    assert got is not None and got.startswith(reason), got


@pytest.mark.parametrize("field", ["doi", "license", "journal-ref"])
@pytest.mark.parametrize("value", [["10.1/x"], {"a": 1}])
def test_snapshot_text_fields_given_as_arrays_or_objects_are_rejected(field, value):
    base, _ = BASES["snapshot"]
    _, reason = _outcome(paper_from_record, with_value(base, field, value))
    kind = "array" if isinstance(value, list) else "object"
    assert reason == f"{field}: expected a string, got {kind}"


def test_authors_over_the_total_limit_are_rejected_after_splitting():
    base, _ = BASES["snapshot"]
    record = with_value(base, "authors_parsed", [["N" * 900, "A", ""]] * 300)
    _, reason = _outcome(paper_from_record, record)
    assert reason is not None and "more than the 200,000 allowed" in reason, reason


def test_a_run_too_long_to_be_a_repository_is_no_code_link_and_the_paper_is_kept():
    base, _ = BASES["listing"]
    junk = "https://github.com/owner/" + "r" * 3000
    paper, reason = _outcome(paper_from_record, with_value(base, "comment", junk))
    assert reason is None and paper.code_url is None


# -- JSON lines: any bytes on a line -------------------------------------------------------------
lines = (
    st.binary(max_size=60)
    | st.builds(lambda v: json.dumps(v).encode(), json_values)
    | st.sampled_from(
        [b"\xff\xfe{}", b"\xef\xbb\xbf{}", b"[" * 5000, b'{"n": 1' + b"0" * 5000 + b"}"]
    )
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.lists(lines, min_size=1, max_size=5))
def test_any_bytes_on_a_line_give_a_paper_or_a_reason(tmp_path, body):
    # A real first line: a file that opens with "[" is read as one JSON array instead.
    first = (FIXTURES / "arxiv_listings_head100.jsonl").read_bytes().splitlines()[0]
    body = [first] + [line.replace(b"\n", b" ") for line in body]
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(body) + b"\n")
    got = list(read_file(path))
    assert len(got) == sum(1 for line in body if line.strip())
    assert got[0].paper is not None
    for line in got:
        assert (line.paper is None) != (line.error is None)
        assert line.paper is None or paper_problems(line.paper) == []


def test_a_line_starting_with_ff_fe_is_rejected_as_not_utf8(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xff\xfe{}\n")
    [line] = read_file(path)
    assert line.error.startswith("not UTF-8: byte 0xff at column 1")
    assert "utf-16" not in line.error.lower()


# -- XML formats: any text in any element --------------------------------------------------------
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
xml_text = st.text(chars, max_size=30) | long_text | dates | st.sampled_from(["", " ", "\x00"])
xml_change = st.tuples(st.sampled_from(["text", "child", "remove"]), xml_text)


def _change(element: ET.Element, tag: str, how: str, text: str) -> None:
    target = element.find(tag)
    if target is None:
        return
    if how == "remove":
        element.remove(target)
    elif how == "child":
        ET.SubElement(target, "nested").text = text
    else:
        target.text = text


def _api_entry() -> ET.Element:
    root = ET.fromstring(recorded("arxiv_api/id_1605.08386.json").body.encode("utf-8"))
    return root.find(f"{ATOM}entry")


API_TAGS = (
    [(None, f"{ATOM}{t}") for t in ("id", "title", "summary", "published", "updated")]
    + [(f"{ATOM}author", f"{ATOM}name")]
    + [(None, f"{ARXIV}{t}") for t in ("comment", "journal_ref", "doi")]
)


@settings(max_examples=200, deadline=None)
@given(where=st.sampled_from(API_TAGS), change=xml_change)
def test_arxiv_api_entries_give_a_paper_within_bounds_or_a_reason(where, change):
    entry = _api_entry()
    parent, tag = where
    _change(entry.find(parent) if parent else entry, tag, *change)
    _outcome(paper_from_entry, entry)


def _oai_record() -> ET.Element:
    root = ET.fromstring(fixture_bytes("oai/listrecords_hep-th.xml"))
    oai = "{http://www.openarchives.org/OAI/2.0/}"
    return root.find(f"{oai}ListRecords/{oai}record")


OAI_TAGS = [
    "id",
    "title",
    "abstract",
    "created",
    "updated",
    "comments",
    "journal-ref",
    "doi",
    "license",
    "categories",
    "authors",
]


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(OAI_TAGS), change=xml_change)
def test_oai_records_give_a_paper_within_bounds_or_a_reason(name, change):
    record = _oai_record()
    metadata = next(iter(record.find("{http://www.openarchives.org/OAI/2.0/}metadata")))
    child = next((c for c in metadata if c.tag.rsplit("}", 1)[-1] == name), None)
    if child is not None:
        _change(metadata, child.tag, *change)
    _outcome(paper_from_oai_record, record)


RSS_TAGS = [f"{ATOM}{t}" for t in ("id", "title", "summary", "published")] + [
    "{http://purl.org/dc/elements/1.1/}creator",
    "{http://purl.org/dc/elements/1.1/}rights",
    f"{ARXIV}announce_type",
]


@settings(max_examples=200, deadline=None)
@given(tag=st.sampled_from(RSS_TAGS), change=xml_change)
def test_rss_entries_give_a_paper_within_bounds_or_a_reason(tag, change):
    entry = ET.fromstring(recorded_feed().encode("utf-8")).find(f"{ATOM}entry")
    _change(entry, tag, *change)
    _outcome(lambda e: announcement_from_entry(e, date(2025, 8, 20)).paper, entry)
