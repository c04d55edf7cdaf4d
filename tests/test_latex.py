"""Text-mode LaTeX in titles and abstracts (paperboy.latex): what a reader sees of it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperboy.latex import pieces, to_html, to_text


@pytest.mark.parametrize(
    "raw, shown",
    [
        # The examples a newcomer met raw on the pages (issue 13).
        (r"\textbf{Sparse} attention", "Sparse attention"),
        (r"cuts cost by 50\%", "cuts cost by 50%"),
        (r"1--2 orders of magnitude", "1–2 orders of magnitude"),
        (r"trained for \$400K", "trained for $400K"),
        (r"\ours{} beats \ours by far", "ours beats ours by far"),
        # A bare % is a percent sign (Hugging Face summaries), not a comment eating the line.
        ("improves 5% of the time\nand more", "improves 5% of the time\nand more"),
        (r"Sch\"{o}lkopf, Erd\H{o}s, na\"ive, \'{\i}", "Schölkopf, Erdős, naïve, í"),
        ("``quoted'' --- and Fig.~1", "“quoted” — and Fig.\u00a01"),
        (r"{\bf bold {\it both}} rest", "bold both rest"),
        (r"\emph{unclosed", "unclosed"),  # a snippet cut inside a group
        (r"\ldots and \LaTeX{}", "… and LaTeX"),
    ],
)
def test_text_mode_latex_reads_as_text(raw, shown):
    assert to_text(raw) == shown


@pytest.mark.parametrize(
    "math", [r"$O(n^2)$", r"$$\sum_i x_i$$", r"\(a\%b\)", r"\[x--y\]", r"$\{1, \dots, n\}$"]
)
def test_math_is_left_exactly_as_written_for_katex(math):
    raw = rf"\textbf{{Fast}} in {math}, 50\%"
    assert to_text(raw) == f"Fast in {math}, 50%"
    assert f" in {math}, 50%" in to_html(raw)


def test_styles_become_tags_and_everything_else_is_escaped():
    html = to_html(r"\textbf{Bold} \emph{<em>} \textit{it} \texttt{x\_y} a<b & $c<d$")
    assert html == (
        "<b>Bold</b> <em>&lt;em&gt;</em> <i>it</i> <code>x_y</code> a&lt;b &amp; $c&lt;d$"
    )


def test_a_literal_dollar_cannot_open_math_in_katex():
    # KaTeX skips elements of this class (static/app.js), so "\$5 and \$6" stays two prices.
    html = to_html(r"from \$5 to \$6")
    assert html.count('<span class="tex-dollar">$</span>') == 2
    assert to_html("only $5 here").count("tex-dollar") == 1  # no closing $: not math


def test_urls_become_links_only_when_asked_and_allowed():
    raw = (
        r"Code: https://github.com/org/my\_repo. Demo (https://example.org/a_(b)). "
        r"Local http://localhost:8000/x and \url{https://hf.co/x\_y}."
    )
    linked = to_html(raw, links=True)
    assert '<a href="https://github.com/org/my_repo" rel="noopener nofollow">' in linked
    assert "my_repo</a>. Demo" in linked  # the sentence's full stop is not part of the URL
    assert '<a href="https://example.org/a_(b)"' in linked
    assert '<a href="https://hf.co/x_y"' in linked
    assert "localhost" in linked and 'href="http://localhost' not in linked  # not public
    assert "<a " not in to_html(raw)  # cards and titles: text only


@pytest.mark.parametrize(
    "raw",
    [
        'see https://a.org/"><script>alert(1)</script>',
        "javascript:alert(1) and data:text/html,<b>x</b>",
        r"\href{javascript:alert(1)}{click}",
    ],
)
def test_nothing_in_an_abstract_becomes_markup(raw):
    html = to_html(raw, links=True)
    assert "<script" not in html and "<b>" not in html
    assert all(href.startswith("https://") for href in re.findall(r'href="([^"]*)"', html))


def test_search_matches_are_marked_at_their_raw_offsets():
    raw = r"\textbf{Attention} is 50\% of it"
    start = raw.index("Attention")
    html = to_html(raw, [(start, start + 9), (raw.index("50"), raw.index(" of"))])
    assert html == "<b><mark>Attention</mark></b> is <mark>50</mark><mark>%</mark> of it"


@given(st.text(alphabet="ab\\{}$%&<>-~`'\" ._^htps:/", max_size=60))
def test_any_text_gives_balanced_escaped_html_and_covers_the_source(raw):
    html = to_html(raw, [(0, 3)], links=True)
    for tag in ("b", "i", "em", "code", "mark", "a", "span"):
        assert html.count(f"<{tag}") == html.count(f"</{tag}>"), (raw, html)
    stripped = re.sub(r"<[^>]+>", "", html)
    assert "<" not in stripped and ">" not in stripped
    spans = [(p.start, p.end) for p in pieces(raw)]
    assert spans == sorted(spans) and all(s <= e for s, e in spans)
    covered = sum(e - s for s, e in spans)
    assert covered == len(raw)  # every character is accounted for exactly once
