"""Reading bulk files: the three record shapes, gzip, JSON arrays, and rejected lines."""

import gzip
import json
import shutil
from datetime import date

import pytest

from paperboy.sources import SourceError
from paperboy.sources.files import paper_from_record, read_file


def test_reads_the_official_snapshot_shape(fixtures):
    lines = list(read_file(fixtures / "arxiv_snapshot_head50.jsonl"))
    assert len(lines) == 50 and all(line.paper for line in lines)
    first = lines[0].paper
    assert first.id == "0704.0001"
    assert first.version == 2
    assert first.title.startswith("Calculation of prompt diphoton production cross sections")
    assert "\n" not in first.title and "  " not in first.abstract
    assert first.authors[:2] == ["C. Balázs", "E. L. Berger"]
    assert first.published == date(2007, 4, 2) and first.updated == date(2007, 7, 24)
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.doi == "10.1103/PhysRevD.76.013009"
    assert first.primary_category == "hep-ph"
    assert first.entry is None  # a bulk backfill does not flood the daily feed
    second = lines[1].paper
    assert second.categories == ["math.CO", "cs.CG"]
    assert second.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def test_reads_listing_rows_into_the_feed_on_their_listing_day(fixtures):
    lines = list(read_file(fixtures / "arxiv_listings_head100.jsonl"))
    paper = lines[0].paper
    assert paper.id == "2503.11731"
    assert paper.entry.day == date(2025, 3, 18) and paper.entry.source == "arxiv"
    assert paper.announced == date(2025, 3, 18)
    assert paper.categories == ["cs.CV", "cs.RO"] and paper.primary_category == "cs.CV"


def test_reads_an_hf_api_response_array(fixtures):
    lines = list(read_file(fixtures / "hf_daily_papers_2026-08-21.json"))
    assert len(lines) == 17
    top = lines[0].paper
    assert (top.id, top.upvotes) == ("2608.19880", 163)
    assert top.entry.day == date(2026, 8, 21) and top.entry.source == "hf"
    assert top.authors and all(isinstance(a, str) for a in top.authors)


def test_gzip_is_detected_by_content(fixtures, tmp_path):
    target = tmp_path / "listings.data"  # no .gz suffix on purpose
    with (
        open(fixtures / "arxiv_listings_head100.jsonl", "rb") as src,
        gzip.open(target, "wb") as out,
    ):
        shutil.copyfileobj(src, out)
    assert len([line for line in read_file(target) if line.paper]) == 100


def test_bad_lines_are_rejected_with_line_numbers_and_the_rest_goes_on(fixtures, tmp_path):
    good = (fixtures / "arxiv_listings_head100.jsonl").read_text().splitlines()[:3]
    bad_file = tmp_path / "mixed.jsonl"
    bad_file.write_text(
        "\n".join(
            [
                good[0],
                '{"id": "2503.00001", "title": "broken',  # malformed JSON
                json.dumps({"id": "2503.00002", "summary": "no title"}),
                json.dumps({"id": "not-an-id", "title": "t", "summary": "s"}),
                "[1, 2]",
                json.dumps({"hello": "world"}),
                "",
                good[1],
            ]
        )
        + "\n"
    )
    lines = list(read_file(bad_file))
    errors = {line.number: line.error for line in lines if line.error}
    assert [line.number for line in lines if line.paper] == [1, 8]
    assert errors[2].startswith("invalid JSON")
    assert errors[3] == "missing required field 'title'"
    assert "not an arXiv id" in errors[4]
    assert errors[5] == "expected a JSON object, got list"
    assert errors[6].startswith("unrecognised record")


def test_resumes_after_a_line_and_offset(fixtures):
    path = fixtures / "arxiv_listings_head100.jsonl"
    everything = list(read_file(path))
    tail = list(read_file(path, start_line=40, start_offset=everything[39].end_offset))
    assert [line.paper.id for line in tail] == [line.paper.id for line in everything[40:]]


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="cannot read"):
        list(read_file(tmp_path / "nope.jsonl"))


@pytest.mark.parametrize(
    "record",
    [
        None,
        3,
        "text",
        [],
        {"paper": "x"},
        {"paper": {"id": "x"}},
        {"id": "2405.15738", "title": ["T"], "summary": "S"},
        {"id": "2405.15738", "title": "T", "abstract": {"a": 1}},
        {"id": "2405.15738", "title": "T", "summary": "S", "comment": 7},
        {"paper": {"id": "2405.15738", "title": 5, "summary": "S"}},
    ],
)
def test_odd_records_raise_record_errors(record):
    from paperboy.papers import InvalidArxivId
    from paperboy.sources import RecordError

    with pytest.raises((RecordError, InvalidArxivId)):
        paper_from_record(record)
