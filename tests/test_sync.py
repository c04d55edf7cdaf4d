"""Sync, harvest and fetch runs into a real store, from recorded upstreams on loopback.

Each test runs against both backends (the `store` fixture of conftest.py: SQLite, PostgreSQL).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date

import pytest

from paperboy.sync import RunFailed, fetch, harvest, sync_source
from tests.recorded_oai import harvest_pages, oai_error, real_records, serve_harvest
from tests.recorded_rss import recorded_feed, replacement_feed
from tests.replay import FIXTURES, ReplayServer, Reply, loopback_settings, recorded

FROM = date(2017, 1, 1)


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


@pytest.fixture
def settings(tmp_path, server, backend_settings):
    # Upstreams on loopback; the store is the parametrised backend (SQLite and PostgreSQL).
    return replace(
        loopback_settings(tmp_path, server, arxiv_categories=("cs.AI",), sync_initial_days=1),
        data_dir=backend_settings.data_dir,
        database_url=backend_settings.database_url,
    )


def stored_ids(store) -> set[str]:
    return {p.id for p in store.iter_papers()}


ALL_IDS = {ident for ident, _ in real_records()}


# -- harvest ---------------------------------------------------------------------------------
def test_a_harvest_stores_every_record_once(server, settings, store):
    serve_harvest(server, harvest_pages(per_page=3))
    run = harvest(store, settings, "physics", FROM, show_progress=False)
    assert (run.added, run.updated, run.unchanged, run.rejected) == (19, 0, 0, 0)
    assert stored_ids(store) == ALL_IDS
    assert store.runs()[0]["status"] == "done"
    # The same harvest again is a new run that changes nothing.
    again = harvest(store, settings, "physics", FROM, show_progress=False)
    assert again.id != run.id and not again.resumed
    assert (again.added, again.unchanged) == (0, 19)


def test_a_broken_page_stops_the_harvest_and_the_rerun_resumes_there(server, settings, store):
    pages = harvest_pages(per_page=3)
    serve_harvest(server, pages)
    server.route("/oai", Reply(200, pages[2].body[:1500]), {"resumptionToken": pages[2].token})
    with pytest.raises(RunFailed) as err:
        harvest(store, settings, "physics", FROM, show_progress=False)
    assert "not valid XML" in str(err.value) and "resumptionToken=6960524%7C7" in str(err.value)
    assert "The 6 papers stored so far are kept" in str(err.value)
    assert "resume at page 3" in str(err.value)
    assert stored_ids(store) == set(pages[0].ids + pages[1].ids)
    assert err.value.run.added == 6

    serve_harvest(server, pages[2:])  # the upstream recovers
    server.hits.clear()
    run = harvest(store, settings, "physics", FROM, show_progress=False)
    assert run.resumed and run.id == err.value.run.id
    assert server.hits[0].params == {"verb": "ListRecords", "resumptionToken": pages[2].token}
    assert stored_ids(store) == ALL_IDS
    assert (run.added, run.updated, run.unchanged) == (19, 0, 0)  # nothing counted twice


def test_an_upstream_down_mid_harvest_keeps_what_was_stored(server, settings, store):
    pages = harvest_pages(per_page=3)
    serve_harvest(server, pages)
    server.route("/oai", Reply(503, "down for maintenance"), {"resumptionToken": pages[3].token})
    with pytest.raises(RunFailed) as err:
        harvest(store, settings, "physics", FROM, show_progress=False)
    assert "not answering" in str(err.value) and "HTTP 503" in str(err.value)
    assert len(stored_ids(store)) == 9
    assert store.runs()[0]["status"] == "running"  # resumable


def test_an_expired_token_fails_the_run_and_the_next_starts_over(server, settings, store):
    pages = harvest_pages(per_page=3)
    serve_harvest(server, pages)
    server.route("/oai", Reply(200, "<broken"), {"resumptionToken": pages[3].token})
    with pytest.raises(RunFailed):
        harvest(store, settings, "physics", FROM, show_progress=False)
    server.route(
        "/oai",
        Reply(200, oai_error("badResumptionToken", "expired")),
        {"resumptionToken": pages[3].token},
    )
    with pytest.raises(RunFailed) as err:
        harvest(store, settings, "physics", FROM, show_progress=False)
    assert "cannot resume" in str(err.value) and "starts it over" in str(err.value)
    assert store.runs()[0]["status"] == "failed"

    serve_harvest(server, pages)
    server.hits.clear()
    run = harvest(store, settings, "physics", FROM, show_progress=False)
    assert not run.resumed
    assert server.hits[0].params["metadataPrefix"] == "arXiv"
    assert (run.added, run.unchanged) == (10, 9)
    assert stored_ids(store) == ALL_IDS


# -- sync: Hugging Face ----------------------------------------------------------------------
def hf_day(day: str) -> list:
    return json.loads((FIXTURES / "hf_api" / f"{day}.json").read_text(encoding="utf-8"))


def serve_hf(server, days: dict[str, list]) -> None:
    server.route("/api/daily_papers", Reply(200, "[]", content_type="application/json"))
    for day, items in days.items():
        server.route(
            "/api/daily_papers",
            Reply(200, json.dumps(items), content_type="application/json"),
            {"date": day},
        )


def test_hf_sync_goes_back_the_initial_days_then_on_from_the_watermark(server, settings, store):
    items = hf_day("2024-05-27")
    serve_hf(server, {"2024-05-27": items})
    run = sync_source(store, settings, "hf", today=date(2024, 5, 27), show_progress=False)
    assert [h.params["date"] for h in server.hits] == ["2024-05-26", "2024-05-27"]
    assert run.added == 13
    assert len(store.papers_on(date(2024, 5, 27))) == 13
    assert store.get_state("sync:hf:last_day") == "2024-05-27"

    # A day later: the last synced day is fetched again (its upvotes grew), then the new day.
    items[0]["paper"]["upvotes"] += 5
    serve_hf(server, {"2024-05-27": items})
    server.hits.clear()
    run = sync_source(store, settings, "hf", today=date(2024, 5, 28), show_progress=False)
    assert [h.params["date"] for h in server.hits] == ["2024-05-27", "2024-05-28"]
    assert (run.added, run.updated, run.unchanged) == (0, 1, 12)
    assert store.get(items[0]["paper"]["id"]).upvotes == items[0]["paper"]["upvotes"]
    assert store.get_state("sync:hf:last_day") == "2024-05-28"


def test_hf_sync_with_the_upstream_down_keeps_the_days_before(server, settings, store):
    serve_hf(server, {"2024-05-27": hf_day("2024-05-27")})
    server.route("/api/daily_papers", Reply(503), {"date": "2024-05-28"})
    with pytest.raises(RunFailed) as err:
        sync_source(
            store,
            settings,
            "hf",
            since=date(2024, 5, 27),
            today=date(2024, 5, 29),
            show_progress=False,
        )
    assert "date=2024-05-28" in str(err.value) and "HTTP 503" in str(err.value)
    assert "The 13 papers stored before are kept" in str(err.value)
    assert store.count_papers() == 13
    assert store.get_state("sync:hf:last_day") == "2024-05-27"
    assert store.runs()[0]["status"] == "failed"


# -- sync: the announcement feed -------------------------------------------------------------
def test_rss_sync_puts_new_papers_in_the_feed_and_applies_replacements(server, settings, store):
    server.route("/atom/cs.AI", Reply(200, recorded_feed()))
    run = sync_source(store, settings, "rss", show_progress=False)
    assert run.added == 7
    assert {p.id for p in store.papers_on(date(2025, 8, 20))} == {
        "2508.13426",
        "2508.13428",
        "2508.13429",
        "2508.13434",
        "2508.13435",
        "2508.14001",
        "2508.14002",
    }

    # The same day's feed again is skipped.
    again = sync_source(store, settings, "rss", show_progress=False)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 0)

    server.route("/atom/cs.AI", Reply(200, replacement_feed()))
    run = sync_source(store, settings, "rss", show_progress=False)
    assert (run.added, run.updated) == (0, 2)
    assert store.papers_on(date(2025, 8, 21)) == []  # replacements do not enter the feed again
    paper = store.get("2508.13426")
    assert paper.version == 2 and paper.title.startswith("ALIGN (revised):")
    assert paper.entry.day == date(2025, 8, 20) and paper.announced == date(2025, 8, 20)
    assert store.get_state("sync:rss:cs.AI") == "2025-08-21"


def test_rss_sync_warns_about_announcement_days_it_missed(server, settings, store, caplog):
    store.set_state("sync:rss:cs.AI", "2025-08-14")
    server.route("/atom/cs.AI", Reply(200, recorded_feed()))
    with caplog.at_level(logging.WARNING, logger="paperboy.sync"):
        sync_source(store, settings, "rss", show_progress=False)
    [warning] = caplog.messages
    assert "2025-08-14" in warning and "paperboy harvest --set cs --from 2025-08-14" in warning


# -- fetch -----------------------------------------------------------------------------------
def test_fetch_stores_found_papers_and_rejects_the_rest(server, settings, store):
    server.route(
        "/api/query",
        recorded("arxiv_api/id_unknown_and_1707.08567.json"),
        {"id_list": "2412.99999,1707.08567"},
    )
    run = fetch(
        store,
        settings,
        ["2412.99999", "junk", "https://arxiv.org/abs/1707.08567"],
        show_progress=False,
    )
    assert (run.added, run.rejected) == (1, 2)
    assert store.get("1707.08567").title.startswith("Proceedings of Workshop AEW10")
    reasons = dict(store.rejections(run.id))
    assert "'junk' is not an arXiv id" in reasons["argument 2"]
    assert any(r == "2412.99999: not found on arXiv" for r in reasons.values())


def test_fetch_with_the_api_down_fails_clearly(server, settings, store):
    server.route("/api/query", Reply(503))
    with pytest.raises(RunFailed) as err:
        fetch(store, settings, ["1707.08567"], show_progress=False)
    assert "id_list=1707.08567" in str(err.value) and "not answering" in str(err.value)
    assert store.runs()[0]["status"] == "failed"
