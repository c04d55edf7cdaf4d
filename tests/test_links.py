"""The outside-link allow-list (paperboy.links), and that ingest drops a failing link: through
the real CLI on a real file, a loopback upstream, and the store's merge on both backends."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from datetime import date
from importlib import resources
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import Url

from paperboy.config import Settings
from paperboy.links import allowed_url, doi_links, doi_problem, doi_url, link_problem
from paperboy.papers import Paper
from paperboy.sources.hf import fetch_daily
from paperboy.sources.http import PoliteClient
from paperboy.store import open_store
from tests.environment import subprocess_env
from tests.replay import FIXTURES, ReplayServer, Reply, loopback_settings

# What the probe of issue 11 stored and rendered, and the usual tricks around a scheme check.
SCRIPT_LINKS = [
    "javascript:alert(document.domain)",
    " javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x00javascript:alert(1)",
    "javascript\u200b:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "//evil.example.com/x",
    "https:evil.com/x",
    "https:/evil.com/x",
    "https:\\\\evil.com/x",
    "https://github.com\\@evil.com/",
    "https://user:secret@github.com/a/b",
    "https://github.com@evil.com/",
    "https://localhost/",
    "http://intranet/",
    "https://127.0.0.1/",
    "https://0x7f.1/",
    "https://2130706433/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data",
    "http://192.168.1.1/admin",
    "https://printer.local/",
    "https://a_b.example.org/",
    "https://github.com:99999/",
    "https://github.com/a\u202eb",
    'https://github.com/a"onmouseover="alert(1)',
    "https://github.com/<script>",
    "https://" + "a" * 2100 + ".com/",
    "",
    "   ",
]
REAL_LINKS = [
    "https://github.com/huggingface/transformers",
    "https://github.com/a-b/c.d_e",
    "http://example.org/path?q=1&r=2#frag",
    "https://münchen.de/projekt",
    "https://xn--mnchen-3ya.de/",
    "https://project.page.io:8443/x/",
    "http://3.148.244.109:5000/",  # a real project page in the demo corpus
    "https://[2606:4700::1111]/",
]


@pytest.mark.parametrize("url", SCRIPT_LINKS)
def test_script_and_tricky_links_are_refused_with_a_reason(url):
    assert allowed_url(url) is None
    why = link_problem(url)
    assert why and isinstance(why, str)


@pytest.mark.parametrize("url", REAL_LINKS)
def test_real_links_pass_unchanged(url):
    assert link_problem(url) is None
    assert allowed_url(url) == url


def test_the_reason_says_what_is_wrong():
    assert link_problem("JAVASCRIPT:alert(1)") == "scheme 'javascript' is not http or https"
    assert "U+0009" in link_problem("https://git\thub.com/")
    assert "credentials" in link_problem("https://user:pw@github.com/")
    assert "not a public address" in link_problem("http://10.0.0.1/")
    assert link_problem(["https://github.com/a/b"]) == "expected text, got list"
    assert link_problem({"url": "https://github.com/a/b"}) == "expected text, got dict"


def test_surrounding_whitespace_is_dropped_and_nothing_else_changes():
    assert allowed_url("  https://github.com/a/b\n") == "https://github.com/a/b"


def test_every_link_in_the_recorded_upstream_data_passes():
    """No false refusals: the githubRepo, projectPage, thumbnail and mediaUrl of every
    recorded Hugging Face item, mediaUrls too."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("githubRepo", "projectPage", "thumbnail", "mediaUrl") and value:
                    found.append(value)
                if key == "mediaUrls" and isinstance(value, list):
                    found.extend(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(FIXTURES.glob("hf_*/*.json")) + [
        FIXTURES / "hf_daily_papers_2026-08-21.json"
    ]:
        walk(json.loads(path.read_text(encoding="utf-8")))
    for line in (FIXTURES / "search_papers.jsonl").read_text(encoding="utf-8").splitlines():
        walk(json.loads(line))
    assert len(found) > 250
    assert [(url, link_problem(url)) for url in found if link_problem(url)] == []


def test_every_link_of_the_demo_corpus_passes():
    corpus = resources.files("paperboy.data") / "demo_papers.jsonl.gz"
    with corpus.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        papers = [json.loads(line).get("paper", {}) for line in lines]
    links = [p[k] for p in papers for k in ("githubRepo", "projectPage") if p.get(k)]
    assert len(links) > 3000
    assert [(url, link_problem(url)) for url in links if link_problem(url)] == []


# -- DOIs --------------------------------------------------------------------------------------
def test_dois_of_the_arxiv_snapshot_pass_and_link_to_doi_org():
    lines = (FIXTURES / "arxiv_snapshot_head50.jsonl").read_text().splitlines()
    dois = [d for line in lines if (d := json.loads(line).get("doi"))]
    assert len(dois) > 10
    assert [d for d in dois if doi_problem(d)] == []
    # Some hold two, space-separated: each becomes its own link.
    assert any(" " in d for d in dois)
    for field in dois:
        links = doi_links(field)
        assert [doi for doi, _ in links] == field.split()
        assert all(url == "https://doi.org/" + doi for doi, url in links)


@pytest.mark.parametrize(
    "doi",
    [
        "javascript:alert(1)",
        "https://evil.example/10.1/x",
        "10.12/x",
        "10.1234",
        "10.1234/",
        "10.1234/a\x00b",
        "",
        "doi:10.1234/x",
        ["10.1234/x"],
    ],
)
def test_what_is_no_doi_is_refused(doi):
    assert doi_problem(doi) is not None
    assert doi_links(doi) == []


def test_a_doi_link_stays_on_doi_org():
    assert doi_url("10.1000/a?b#c%d") == "https://doi.org/10.1000/a%3Fb%23c%25d"
    assert doi_links("10.1103/PhysRevD.1 10.1016/j.x.2008.01.001") == [
        ("10.1103/PhysRevD.1", "https://doi.org/10.1103/PhysRevD.1"),
        ("10.1016/j.x.2008.01.001", "https://doi.org/10.1016/j.x.2008.01.001"),
    ]


# -- properties ----------------------------------------------------------------------------
NOISE = st.sampled_from(["\t", "\n", "\r", "\x00", "\x0b", " ", "\u200b", "\u00a0", "\ufeff"])


@st.composite
def disguised_schemes(draw):
    """A scheme that runs script or carries a document, in random case, with characters a
    browser skips slipped in, then anything."""
    scheme = draw(st.sampled_from(["javascript", "vbscript", "data", "file", "blob"]))
    chars = [c.upper() if draw(st.booleans()) else c for c in scheme]
    for _ in range(draw(st.integers(0, 3))):
        chars.insert(draw(st.integers(0, len(chars))), draw(NOISE))
    lead = "".join(draw(st.lists(NOISE, max_size=3)))
    return lead + "".join(chars) + ":" + draw(st.text(max_size=40))


@given(disguised_schemes())
def test_no_disguise_of_a_script_scheme_passes(url):
    assert allowed_url(url) is None


@given(
    st.one_of(
        st.text(),
        st.binary(),
        st.none(),
        st.integers(),
        st.floats(),
        st.lists(st.text(max_size=5)),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5)),
    )
)
def test_any_value_gets_an_answer_and_what_passes_is_plain_http(value):
    """Never an exception, whatever an upstream sends; a passing URL reads as http(s) with a
    host both to the WHATWG parser (what a browser follows) and to urllib."""
    result = allowed_url(value)
    assert result is None or isinstance(result, str)
    if result is not None:
        parts = urlsplit(result)
        assert parts.scheme.lower() in ("http", "https") and parts.hostname
        assert "@" not in parts.netloc
        parsed = Url(result)
        assert parsed.scheme in ("http", "https") and not parsed.username
        assert allowed_url(result) == result


LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
PATH = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%", max_size=40
)


@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    st.lists(LABEL, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,10}", fullmatch=True),
    PATH,
)
def test_ordinary_links_pass(scheme, labels, tld, path):
    url = f"{scheme}://{'.'.join(labels)}.{tld}/{path}"
    if tld in {"localhost", "local", "internal", "invalid", "test", "example", "arpa", "lan"}:
        return
    assert allowed_url(url) == url


# -- at ingest -----------------------------------------------------------------------------
def hf_items() -> list[dict]:
    return json.loads((FIXTURES / "hf_daily_papers_2026-08-21.json").read_text())


def test_import_through_the_cli_drops_bad_links_and_keeps_the_papers(tmp_path, clean_env):
    items = hf_items()[:6]
    bad = {
        0: ("githubRepo", "javascript:alert(document.cookie)"),
        1: ("projectPage", " JAVASCRIPT:alert(1)"),
        2: ("githubRepo", "java\tscript:alert(1)"),
        3: ("projectPage", "data:text/html,<script>alert(1)</script>"),
        # A link that is not text at all (a list) fails the record's schema: the record
        # is rejected naming the field (tests/test_ingest_bad_records.py), not kept.
        4: ("githubRepo", "https://github.com@evil.com/a/b"),
    }
    for number, (name, value) in bad.items():
        items[number]["paper"][name] = value
    items[5]["paper"]["githubRepo"] = "https://github.com/good/repo"
    path = tmp_path / "day.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "--data-dir", str(data), "import", "--quiet", str(path)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "added 6, updated 0, unchanged 0, rejected 0" in done.stdout
    for number in bad:
        assert f"{path}:{number + 1}: {items[number]['paper']['id']}: dropped the " in done.stderr
    assert "githubRepo" in done.stderr and "projectPage" in done.stderr
    assert "scheme 'javascript' is not http or https" in done.stderr

    store = open_store(Settings.load(data_dir=data))
    try:
        stored = {i: store.get(items[i]["paper"]["id"]) for i in range(6)}
    finally:
        store.close()
    for number in bad:
        field = "code_url" if name == "githubRepo" else "project_url"
        value = getattr(stored[number], field)
        assert value is None or value.startswith("https://github.com/"), (number, value)
    assert stored[5].code_url == "https://github.com/good/repo"


def test_a_bad_link_from_the_hf_api_is_dropped_with_a_warning(tmp_path, caplog, clean_env):
    items = hf_items()[:3]
    items[1]["paper"]["projectPage"] = "vbscript:msgbox(1)"
    items[1]["paper"]["githubRepo"] = "https://github.com/real/repo"
    with ReplayServer() as server:
        server.route(
            "/api/daily_papers", Reply(200, json.dumps(items), content_type="application/json")
        )
        settings = loopback_settings(tmp_path, server)
        with caplog.at_level(logging.WARNING, "paperboy.sources"), PoliteClient(settings) as c:
            got = fetch_daily(c, settings, date(2026, 8, 21))
    papers = {p.id: p for p in got}
    assert len(papers) == 3
    second = papers[items[1]["paper"]["id"]]
    assert second.project_url is None and second.code_url == "https://github.com/real/repo"
    [record] = caplog.records
    assert "#item2: " in record.getMessage() and "projectPage" in record.getMessage()


def test_the_store_never_keeps_a_bad_link(store):
    """Any way in (a submission, a transfer, a future source) ends in the store's merge."""
    store.upsert(
        [
            Paper(
                "2401.00001",
                "T",
                "An abstract.",
                code_url="javascript:alert(1)",
                project_url="https://example.org/p",
                doi="javascript:x",
            )
        ]
    )
    kept = store.get("2401.00001")
    assert (kept.code_url, kept.project_url, kept.doi) == (None, "https://example.org/p", None)
    # One stored before the check existed is gone on the paper's next update.
    with store.transaction() as conn:
        conn.execute(
            "UPDATE papers SET code_url = ? WHERE id = ?", ("javascript:alert(2)", "2401.00001")
        )
    result = store.upsert([Paper("2401.00001", "T", "An abstract.")])
    assert result.updated == 1
    assert store.get("2401.00001").code_url is None
