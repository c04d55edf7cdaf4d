"""The CLI: import keeps the indexes in step; search, index, index --check."""

import re
import subprocess
import sys

from click.testing import CliRunner

from paperboy.cli import main
from tests.environment import subprocess_env
from tests.search_helpers import FIXTURE


def run(tmp_path, *args, env=None):
    env = {"PAPERBOY_SEARCH_MODEL": "static", "PAPERBOY_SEARCH_BULK_MODEL": ""} | (env or {})
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path / "d"), *args], env=env)


def test_import_then_search(tmp_path):
    imported = run(tmp_path, "import", "--quiet", str(FIXTURE))
    assert imported.exit_code == 0, imported.output
    assert "indexed 300 papers" in imported.output
    result = run(tmp_path, "search", "graph", "neural", "networks", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "found" in result.output and " 1. " in result.output


def test_search_explains_odd_queries(tmp_path):
    run(tmp_path, "import", "--quiet", str(FIXTURE))
    result = run(tmp_path, "search", "year:soon")
    assert result.exit_code == 0
    assert "year:soon is not a year" in result.output


def test_index_check_rebuild(tmp_path):
    run(tmp_path, "import", "--quiet", str(FIXTURE))
    ok = run(tmp_path, "index", "--check")
    assert ok.exit_code == 0 and "indexes match the store (300 papers)" in ok.output
    (tmp_path / "d" / "index" / "state.json").write_text('{"keyword_watermark": 0}')
    bad = run(tmp_path, "index", "--check")
    assert bad.exit_code == 1 and "keyword index is behind" in bad.output
    rebuilt = run(tmp_path, "index", "--quiet")
    assert rebuilt.exit_code == 0 and "indexed 300 papers" in rebuilt.output
    assert run(tmp_path, "index", "--check").exit_code == 0


def test_a_search_backend_that_cannot_work_is_one_clear_line(tmp_path):
    result = run(tmp_path, "search", "graph", env={"PAPERBOY_SEARCH_BACKEND": "postgres"})
    assert result.exit_code == 1
    assert "needs a PostgreSQL database_url" in result.output
    assert "Traceback" not in result.output


def test_search_prints_for_a_reader_on_separate_lines_without_scores(tmp_path):
    run(tmp_path, "import", "--quiet", str(FIXTURE))

    def search(*words):  # a real process, stdout and stderr together as in a terminal
        done = subprocess.run(
            [sys.executable, "-m", "paperboy", "--data-dir", str(tmp_path / "d"), "search", *words],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=subprocess_env() | {"PAPERBOY_SEARCH_BULK_MODEL": ""},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout
        return done.stdout.splitlines()

    nearest = search("zzzyzzqx", "--limit", "3")
    assert re.fullmatch(r"\d+ papers found, showing 1-3", nearest[0]), nearest
    assert nearest[1] == "note: no paper contains these words; showing the closest by meaning"
    assert re.match(r"  1\. \S+ +\S", nearest[2])
    for line in nearest:
        assert not re.search(r"\[(keyword|semantic)|\d\.\d{3}\]", line), line
    nothing = search("graph", "cat:zz.NONE")
    assert nothing == ["0 papers found", "note: no paper matched; try fewer or other words"]
