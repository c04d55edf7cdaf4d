"""The arXiv API client against recorded export.arxiv.org responses served on loopback."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from paperboy.papers import InvalidArxivId
from paperboy.sources import Rejected, SourceError
from paperboy.sources.arxiv_api import fetch_papers, parse_feed, search_pages, search_query
from paperboy.sources.http import PoliteClient
from tests.replay import ReplayServer, Reply, fixture_bytes, loopback_settings, recorded

API = "/api/query"


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def test_look_up_one_paper_by_url(server, tmp_path):
    server.route(API, recorded("arxiv_api/id_1707.08567.json"), {"id_list": "1707.08567"})
    papers = fetch_papers(
        ["https://arxiv.org/abs/1707.08567v1"], loopback_settings(tmp_path, server)
    )
    [paper] = papers
    assert paper.id == "1707.08567" and paper.version == 1
    assert paper.title.startswith("Proceedings of Workshop AEW10")
    assert len(paper.authors) == 34
    assert paper.authors[:2] == ["Kees A. Schouhamer Immink", "Stan Baggen"]
    assert paper.authors[-1] == "Hirosuke Yamamoto"
    assert paper.categories == ["cs.IT"] and paper.primary_category == "cs.IT"
    assert paper.published == date(2017, 7, 27) and paper.updated == date(2017, 7, 27)
    assert paper.comment.startswith("44 pages, editors for the proceedings")
    assert paper.journal_ref is None and paper.entry is None
    # The version is not sent: the API then answers with the latest one.
    assert server.hits[0].params["id_list"] == "1707.08567"


def test_old_style_id_with_journal_ref(server, tmp_path):
    server.route(
        API, recorded("arxiv_api/id_astro-ph_0601001.json"), {"id_list": "astro-ph/0601001"}
    )
    [paper] = fetch_papers(["arXiv:astro-ph/0601001v1"], loopback_settings(tmp_path, server))
    assert paper.id == "astro-ph/0601001"
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters")


def test_doi_versions_and_wrapped_titles_from_the_2016_format(server, tmp_path):
    server.route(
        API,
        Reply(200, fixture_bytes("arxiv_api/id_1111.2011v2_2016.xml")),
        {"id_list": "1111.2011"},
    )
    [paper] = fetch_papers(["1111.2011"], loopback_settings(tmp_path, server))
    assert paper.version == 2
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.published == date(2011, 11, 8) and paper.updated == date(2012, 4, 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )


def test_ids_are_looked_up_in_batches_and_come_back_in_the_order_asked(server, tmp_path):
    server.route(
        API,
        recorded("arxiv_api/id_unknown_and_1707.08567.json"),
        {"id_list": "2412.99999,1707.08567"},
    )
    server.route(API, recorded("arxiv_api/id_1605.08386.json"), {"id_list": "1605.08386"})
    settings = loopback_settings(tmp_path, server, arxiv_api_page_size=2)
    papers = fetch_papers(
        ["2412.99999", "https://arxiv.org/pdf/1707.08567v1.pdf", "1605.08386", "arXiv:1707.08567"],
        settings,
    )
    # 2412.99999 does not exist: left out. The duplicate 1707.08567 is asked for once.
    assert [p.id for p in papers] == ["1707.08567", "1605.08386"]
    assert [(h.params["id_list"], h.params["max_results"]) for h in server.hits] == [
        ("2412.99999,1707.08567", "2"),
        ("1605.08386", "1"),
    ]


def test_an_unknown_id_gives_no_paper(server, tmp_path):
    # The API's recorded answer for a well-formed id no paper has: an empty feed.
    server.route(API, recorded("arxiv_api/id_unknown_empty.json"), {"id_list": "2412.99999"})
    assert fetch_papers(["2412.99999"], loopback_settings(tmp_path, server)) == []


def test_text_that_is_no_id_fails_before_any_request(server, tmp_path):
    with pytest.raises(InvalidArxivId) as err:
        fetch_papers(["1707.08567", "not-a-paper"], loopback_settings(tmp_path, server))
    assert "'not-a-paper'" in str(err.value)
    assert server.hits == []


def test_the_api_error_entry_becomes_a_clear_error(server, tmp_path):
    # The recorded answer to id_list=abc: HTTP 400 with an Atom feed holding one Error entry.
    server.route(API, recorded("arxiv_api/id_abc_error.json"))
    with pytest.raises(SourceError) as err:
        fetch_papers(["1707.08567"], loopback_settings(tmp_path, server))
    assert "the arXiv API refused the request: incorrect id format for abc" in str(err.value)
    assert "id_list=1707.08567" in str(err.value)
    assert len(server.hits) == 1  # an error the API explains is not retried


def test_broken_xml_names_the_url(server, tmp_path):
    body = recorded("arxiv_api/id_1707.08567.json").body
    server.route(API, Reply(200, body[: len(body) // 2]))
    with pytest.raises(SourceError) as err:
        fetch_papers(["1707.08567"], loopback_settings(tmp_path, server))
    assert server.url(API) in str(err.value) and "not valid XML" in str(err.value)


def test_search_pages_through_results(server, tmp_path):
    for start in (0, 10, 20):
        server.route(
            API,
            recorded(f"arxiv_api/q_testing_s{start}_m10.json"),
            {"search_query": "testing", "start": start, "max_results": 10},
        )
    settings = loopback_settings(tmp_path, server, arxiv_api_page_size=10)
    with PoliteClient(settings) as client:
        pages = list(
            search_pages(client, settings, query="testing", max_results=30, sort_by="relevance")
        )
    assert [p.start for p in pages] == [0, 10, 20]
    assert all(p.total == 214881 for p in pages)
    ids = [paper.id for page in pages for paper in page.papers]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert ids[10] == "2403.16981"  # the first entry of the recorded second page
    assert [h.params["sortBy"] for h in server.hits] == ["relevance"] * 3


def test_search_stops_at_the_last_result(server, tmp_path):
    # One result in all (the 2016 response): no second page is asked for.
    server.route(API, Reply(200, fixture_bytes("arxiv_api/id_1111.2011v2_2016.xml")))
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        pages = list(search_pages(client, settings, category="cond-mat.str-el"))
    assert len(pages) == 1 and len(server.hits) == 1
    assert server.hits[0].params["search_query"] == "cat:cond-mat.str-el"


def test_search_query_combines_text_and_category():
    assert search_query("ti:transformer", "cs.CL") == "(ti:transformer) AND cat:cs.CL"
    assert search_query(category="cs.LG") == "cat:cs.LG"
    with pytest.raises(ValueError):
        search_query()


def test_entries_missing_fields_are_rejected_and_the_rest_kept():
    # A recorded ten-entry page with the title of its second entry removed.
    body = recorded("arxiv_api/q_testing_s0_m10.json").body
    root = ET.fromstring(body.encode("utf-8"))
    atom = "{http://www.w3.org/2005/Atom}"
    second = root.findall(f"{atom}entry")[1]
    second.remove(second.find(f"{atom}title"))
    page = parse_feed(root, "http://loopback/api/query")
    assert len(page.papers) == 9
    [rejected] = page.rejected
    assert rejected == Rejected(
        "http://loopback/api/query#entry2", "2405.13786: missing required field 'title'"
    )


def test_code_links_come_from_the_comment():
    # A recorded entry whose comment was edited to point at a repository.
    body = recorded("arxiv_api/id_1605.08386.json").body.replace(
        "20 pages, 3 figures", "20 pages; code at https://github.com/example/heat-bath."
    )
    page = parse_feed(ET.fromstring(body.encode("utf-8")), "http://loopback/api/query")
    assert page.papers[0].code_url == "https://github.com/example/heat-bath"
