"""The account's address check (the digest's "For you" section needs it), through the real app
and a real SMTP server process: the link goes to the address, works only for the account that
asked and only when opened signed in as it, and a digest to an address that another account
typed in carries none of that account's picks (tests/test_mail_digests.py runs the digest side
on both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from paperboy.mail.digests import DigestRun
from paperboy.store.library import Library
from tests.mail_fixtures import mail_settings

from .conftest import csrf_of
from .test_reply_mail import link_in, local, person


@pytest.fixture
def sink(smtp_sink):
    return smtp_sink()


@pytest.fixture
def settings(tmp_path, clean_env, sink, database_url):
    return mail_settings(
        tmp_path / "data", sink.port, mail_backend="smtp", database_url=database_url
    )


def ask(client: TestClient, sink, to: str) -> str:
    """Ask for the check; the link in the mail that went to `to`."""
    before = sink.count()
    r = client.post(
        "/account/verify-email", data={"csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/account?verify=asked"
    assert sink.count() == before + 1
    message = sink.messages()[-1]
    assert message["X-Sink-Rcpt"] == to
    return local(link_in(message, "/account/verify-email"))


def test_only_the_account_that_asked_and_reads_the_address_gets_it_verified(app, store, sink):
    lib = Library(store)
    mallory = person(app, "mallory", "vic@example.org")  # Vic's address on her account
    vic = person(app, "vic", "vic@example.org")
    ids = {u.name: u.id for u in store.users()}
    assert "Confirm my address" in mallory.get("/account").text
    hers = ask(mallory, sink, "vic@example.org")  # the mail goes to Vic, not to her
    page = vic.get(hers)  # Vic opens it, signed in as himself: refused, nothing changed
    assert page.status_code == 400 and "another account" in page.text
    with TestClient(app, base_url="https://papers.example.org") as nobody:
        r = nobody.get(hers, follow_redirects=False)  # not signed in: sign in first
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
    assert lib.verified_email(ids["mallory"]) is None
    assert lib.accounts_by_email(["vic@example.org"]) == {}
    assert mallory.get("/account/verify-email?token=forged").status_code == 400

    his = ask(vic, sink, "vic@example.org")
    page = vic.get(his)
    assert page.status_code == 200 and "Your address is confirmed" in page.text
    assert lib.verified_email(ids["vic"]) == "vic@example.org"
    assert "is confirmed as yours" in vic.get("/account").text
    assert lib.accounts_by_email(["vic@example.org"]) == {"vic@example.org": ids["vic"]}
    assert lib.verified_email(ids["mallory"]) is None
    mallory.close()
    vic.close()


def test_a_digest_to_an_address_another_account_typed_in_has_no_for_you(app, store, sink, settings):
    lib = Library(store)
    mallory = person(app, "mallory", "vic@example.org")
    user = next(u for u in store.users() if u.name == "mallory")
    day = store.latest_day()
    earlier = [p.id for p in store.papers_between(date(2000, 1, 1), day) if p.entry.day < day]
    lib.replace(user.id, [(pid, "arxiv") for pid in earlier[:6]])
    ask(mallory, sink, "vic@example.org")  # asked, never opened
    carol = person(app, "carol", "carol@example.org")  # the control: same library, verified
    carol_id = next(u.id for u in store.users() if u.name == "carol")
    lib.replace(carol_id, [(pid, "arxiv") for pid in earlier[:6]])
    assert lib.verify_email(carol_id, "carol@example.org")
    for address in ("vic@example.org", "carol@example.org"):
        sub, _ = store.request_subscription(address, "", "daily", True, [], "n")
        store.confirm_subscriber(sub.id, "n")
    before = sink.count()
    report = DigestRun(store, settings).run(day)
    assert report.sent == 2 and sink.count() == before + 2
    got = {m["X-Sink-Rcpt"]: m.get_body(("plain",)).get_content() for m in sink.messages()}
    assert "FOR YOU" not in got["vic@example.org"] and "Why: close to" not in got["vic@example.org"]
    assert "FOR YOU" in got["carol@example.org"] and "Why: close to" in got["carol@example.org"]
    carol.close()
    mallory.close()
