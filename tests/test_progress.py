"""Progress output: plain lines with count, rate and ETA when not on a terminal."""

import io

from paperboy.progress import Progress


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    with Progress("import x.jsonl", total=1000, unit="B", stream=out, every=0) as bar:
        bar.set_position(250, items=100)
        bar.set_position(1000, items=400)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("import x.jsonl: 100 papers, ")
    assert "25% done, ETA" in lines[0]
    assert "400 papers" in lines[1] and "100% done" in lines[1]


def test_silent_when_disabled():
    out = io.StringIO()
    with Progress("x", stream=out, every=0, enabled=False) as bar:
        bar.set_position(10, items=10)
    assert out.getvalue() == ""
