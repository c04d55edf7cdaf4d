"""OAI-PMH ListRecords parsing and paging, against real recorded records served on loopback.

The multi-page harvests are built from the recorded records (see recorded_oai.py); the error
responses follow the OAI-PMH specification's form (none was recorded).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from paperboy.sources import SourceError
from paperboy.sources.http import PoliteClient
from paperboy.sources.oai import BadResumptionToken, list_records, parse_page
from tests.recorded_oai import harvest_pages, oai_error, oai_response, real_records, serve_harvest
from tests.replay import ReplayServer, Reply, fixture_bytes, loopback_settings


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def one_page(name: str) -> ET.Element:
    return ET.fromstring(fixture_bytes(f"oai/{name}"))


def test_a_recorded_listrecords_page_maps_every_field():
    page = parse_page(one_page("listrecords_hep-th.xml"), "http://loopback/oai?verb=ListRecords")
    assert [p.id for p in page.papers] == ["1412.8323", "1507.07790", "1607.01710"]
    assert page.token is None and page.rejected == []
    paper = page.papers[1]
    assert (
        paper.title == "Relativistic quantum dynamics of vector bosons in an Aharonov-Bohm "
        "potential"
    )
    assert paper.authors == ["Luis B. Castro", "Edilberto O. Silva"]
    assert paper.categories == ["hep-th", "math-ph", "math.MP", "quant-ph"]
    assert paper.primary_category == "hep-th"
    assert paper.published == date(2015, 7, 28) and paper.updated == date(2016, 3, 4)
    assert paper.comment == "7 pages"
    assert paper.journal_ref == "J. Phys. A: Math. Theor. 51 (2018) 035201"
    assert paper.doi == "10.1088/1751-8121/aa9c53"
    assert paper.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert paper.abstract.startswith("The Aharonov-Bohm (AB) problem for vector bosons")
    assert paper.entry is None  # a backfill does not put papers in the daily feed


def test_metadata_without_its_namespace_declaration_is_read_too():
    # hepcrawl's edited record: <arXiv> inherits the OAI namespace, keynames without forenames.
    records = dict(real_records())
    page = parse_page(
        ET.fromstring(oai_response(f"<ListRecords>{records['1601.03238']}</ListRecords>")),
        "http://loopback/oai",
    )
    [paper] = page.papers
    assert paper.authors == [
        "Planck Collaboration",
        "Jieci Wang",
        "Zehua Tian",
        "Jiliang Jing",
        "Heng Fan",
    ]
    assert paper.doi == "10.1103/PhysRevD.93.016005"


def test_list_records_follows_resumption_tokens(server, tmp_path):
    pages = harvest_pages(per_page=3)
    serve_harvest(server, pages, set_spec="physics", from_="2017-01-01")
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        got = list(list_records(client, settings, "physics", date(2017, 1, 1)))
    assert len(got) == 7
    assert [p.id for page in got for p in page.papers] == [i for i, _ in real_records()]
    assert got[0].complete_size == 19 and got[2].cursor == 6
    assert got[-1].token is None
    first, *rest = server.hits
    assert first.params == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "physics",
        "from": "2017-01-01",
    }
    # Resumption requests carry the token only, as OAI-PMH requires.
    assert [h.params for h in rest] == [
        {"verb": "ListRecords", "resumptionToken": page.token} for page in pages[1:]
    ]


def test_list_records_resumes_from_a_token(server, tmp_path):
    pages = harvest_pages(per_page=3)
    serve_harvest(server, pages)
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        got = list(list_records(client, settings, token=pages[5].token))
    assert [p.id for page in got for p in page.papers] == pages[5].ids + pages[6].ids


def test_until_is_sent_when_given(server, tmp_path):
    server.route("/oai", Reply(200, oai_error("noRecordsMatch", "no records")))
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        list(list_records(client, settings, "cs", date(2026, 8, 1), date(2026, 8, 2)))
    assert server.hits[0].params["until"] == "2026-08-02"


def test_no_records_match_is_an_empty_harvest(server, tmp_path):
    server.route("/oai", Reply(200, oai_error("noRecordsMatch", "No records match")))
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        got = list(list_records(client, settings, "cs", date(2030, 1, 1)))
    assert len(got) == 1 and got[0].items == [] and got[0].token is None


def test_a_bad_resumption_token_is_a_clear_error(server, tmp_path):
    server.route("/oai", Reply(200, oai_error("badResumptionToken", "expired token")))
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client, pytest.raises(BadResumptionToken) as err:
        list(list_records(client, settings, token="6960524|1001"))
    assert "resumptionToken=6960524%7C1001" in str(err.value)
    assert "expired token" in str(err.value) and "tokens expire" in str(err.value)


def test_other_oai_errors_name_their_code(server, tmp_path):
    server.route("/oai", Reply(200, oai_error("badArgument", "Illegal set")))
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client, pytest.raises(SourceError) as err:
        list(list_records(client, settings, "nonsense", date(2026, 1, 1)))
    assert "OAI-PMH error badArgument: Illegal set" in str(err.value)
    assert "set=nonsense" in str(err.value)


def test_deleted_and_broken_records_are_skipped_and_rejected():
    records = dict(real_records())
    deleted = (
        '<record><header status="deleted"><identifier>oai:arXiv.org:1501.00001'
        "</identifier><datestamp>2017-01-01</datestamp></header></record>"
    )
    real = records["1507.07790"]
    no_title = real[: real.index("<title>")] + real[real.index("</title>") + len("</title>") :]
    page = parse_page(
        ET.fromstring(
            oai_response(f"<ListRecords>{deleted}{no_title}{records['1607.01710']}</ListRecords>")
        ),
        "http://loopback/oai",
    )
    assert page.deleted == 1
    assert [p.id for p in page.papers] == ["1607.01710"]
    [rejected] = page.rejected
    assert rejected.location == "http://loopback/oai#record2"
    assert rejected.reason == "1507.07790: missing required field 'title'"


def test_a_broken_page_names_the_url(server, tmp_path):
    pages = harvest_pages(per_page=3)
    serve_harvest(server, pages)
    server.route("/oai", Reply(200, pages[1].body[:2000]), {"resumptionToken": pages[1].token})
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        harvest = list_records(client, settings, "physics", date(2017, 1, 1))
        assert len(next(harvest).papers) == 3
        with pytest.raises(SourceError) as err:
            next(harvest)
    assert "resumptionToken=6960524%7C4" in str(err.value)
    assert "not valid XML" in str(err.value)


def test_a_response_that_is_no_oai_pmh_is_refused():
    with pytest.raises(SourceError) as err:
        parse_page(
            ET.fromstring("<html><body>Service unavailable</body></html>"), "http://loopback/oai"
        )
    assert "expected an OAI-PMH response, got <html>" in str(err.value)
