"""The CLI as a user runs it: summaries, clear errors, exit statuses."""

import pytest
from click.testing import CliRunner

from paperboy.cli import main


@pytest.fixture
def run(settings):
    def invoke(*args):
        return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])

    return invoke


def test_import_prints_a_summary_with_rejections(run, fixtures, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text((fixtures / "arxiv_listings_head100.jsonl").read_text() + "not json\n")
    result = run("import", "--quiet", str(bad))
    assert result.exit_code == 0, result.output
    assert "added 100, updated 0, unchanged 0, rejected 1" in result.output
    assert f"rejected {bad}:101: invalid JSON" in result.output


def test_import_of_a_missing_file_is_one_clear_line(run, tmp_path):
    result = run("import", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 1
    assert "error:" in result.output and "no such file" in result.output
    assert "Traceback" not in result.output


def test_papers_lists_the_latest_day_most_upvoted_first(run, fixtures):
    run("import", "--quiet", str(fixtures / "hf_daily_papers_2026-08-21.json"))
    result = run("papers")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "2026-08-21: 17 papers"
    assert "163 ▲  2608.19880" in lines[1]


def test_papers_on_an_empty_store_says_what_to_do(run):
    result = run("papers")
    assert result.exit_code == 1 and "paperboy import" in result.output


def test_papers_rejects_a_bad_date_as_every_date_option_does(run):
    result = run("papers", "--date", "2026-13-01")
    assert result.exit_code == 2  # a usage error, as the DAY type gives every date option
    assert "Invalid value for '--date'" in result.output and "expected YYYY-MM-DD" in result.output


def test_runs_lists_import_runs(run, fixtures):
    run("import", "--quiet", str(fixtures / "arxiv_snapshot_head50.jsonl"))
    result = run("runs")
    assert "import done: added 50" in result.output


def test_a_bad_setting_is_a_clear_error(run, monkeypatch):
    monkeypatch.setenv("PAPERBOY_IMPORT_BATCH_SIZE", "lots")
    result = run("papers")
    assert result.exit_code == 1
    assert "setting 'import_batch_size' expects int, got 'lots'" in result.output


def test_papers_on_a_day_without_papers_shows_the_day_before_and_says_so(run, fixtures):
    run(
        "import",
        "--quiet",
        str(fixtures / "hf_daily_papers_2026-08-21.json"),
        str(fixtures / "hf_daily_papers_api" / "daily_papers_date=2025-09-10.json"),
    )
    saturday = run("papers", "--date", "2025-09-13")
    assert saturday.exit_code == 0, saturday.output
    lines = saturday.output.splitlines()
    assert lines[0] == (
        "No papers entered the feed on Saturday 13 September 2025: showing "
        "Wednesday 10 September 2025, the closest earlier day with papers."
    )
    assert lines[1].startswith("2025-09-10: ")
    future = run("papers", "--date", "2031-01-01").output.splitlines()
    assert future[0].startswith("Wednesday 1 January 2031 is after the newest day with papers")
    assert future[1] == "2026-08-21: 17 papers"
    same = run("papers", "--date", "2026-08-21").output.splitlines()
    assert same[0] == "2026-08-21: 17 papers"  # a day with papers: no note


def test_papers_shows_titles_latex_as_text(run, fixtures, settings):
    from paperboy.papers import FeedEntry, Paper
    from paperboy.store import open_store

    run("import", "--quiet", str(fixtures / "hf_daily_papers_2026-08-21.json"))
    store = open_store(settings)
    store.upsert(
        [
            Paper(
                id="2608.99990",
                title=r"\textbf{Fast} attention at 50\% cost, 1--2 GPUs",
                abstract="x",
                entry=FeedEntry(store.latest_day(), "hf"),
                upvotes=900,
            )
        ]
    )
    store.close()
    lines = run("papers").output.splitlines()
    assert lines[1] == "  900 ▲  2608.99990   Fast attention at 50% cost, 1–2 GPUs"
