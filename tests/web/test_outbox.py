"""Mail on the site without a relay: /_outbox in demo mode only, sign-up's digest box and the
account page's digest form (web/outbox.py, web/account_digests.py)."""

import re

import pytest
from fastapi.testclient import TestClient

from paperboy.config import Settings
from paperboy.demo_dir import mark_demo
from paperboy.mail.backends import read_outbox
from paperboy.store import open_store
from paperboy.web.app import create_app
from tests.web.conftest import csrf_of, seed


def client_for(settings):
    store = open_store(settings)
    seed(store, settings)
    return TestClient(create_app(settings, store=store))


@pytest.fixture
def demo(tmp_path, clean_env):
    mark_demo(tmp_path / "demo")
    settings = Settings.load(data_dir=tmp_path / "demo", public_url="http://demo.example:8000")
    with client_for(settings) as client:
        client.settings = settings
        yield client


def sign_up_with(client, email: str, digest: bool, name: str = "ada"):
    data = {
        "name": name,
        "password": "correct horse",
        "email": email,
        "csrf_token": csrf_of(client),
    }
    if digest:
        data["digest"] = "1"
    r = client.post("/signup", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_normal_deployment_has_no_outbox_page_whatever_its_backend(tmp_path, clean_env):
    settings = Settings.load(data_dir=tmp_path / "prod", mail_backend="outbox")
    with client_for(settings) as client:
        sign_up_with(client, "ada@example.org", digest=True)
        assert read_outbox(settings)  # the mail is in the folder ...
        assert client.get("/_outbox").status_code == 404  # ... but no page shows it


def test_signing_up_for_digests_sends_the_confirmation_shown_in_the_demo_outbox(demo):
    empty = demo.get("/_outbox")
    assert empty.status_code == 200 and "No mail yet" in empty.text
    sign_up_with(demo, "ada@example.org", digest=True)
    (letter,) = read_outbox(demo.settings)
    assert letter.recipient == "ada@example.org"
    page = demo.get("/_outbox")
    assert page.headers["cache-control"] == "no-store"
    assert "Confirm your paperboy subscription" in page.text
    # Our own links become relative links that work on the demo's port; the full URL is shown.
    href = re.search(
        r'<a href="(/subscriptions/confirm\?token=[^"]+)">http://demo.example:8000', page.text
    ).group(1)
    confirm = demo.get(href.replace("&amp;", "&"))
    assert confirm.status_code == 200 and "<form" in confirm.text


def test_signing_up_without_the_box_subscribes_nobody(demo):
    sign_up_with(demo, "ada@example.org", digest=False)
    assert read_outbox(demo.settings) == []
    assert "Mail me the daily" in demo.get("/signup").text


def test_the_account_page_asks_for_a_digest_by_mail(demo):
    sign_up_with(demo, "ada@example.org", digest=False)
    page = demo.get("/account")
    assert "Email digests" in page.text and 'name="frequency"' in page.text
    r = demo.post("/account/digests", data={"frequency": "weekly", "csrf_token": csrf_of(demo)})
    assert "A mail is on its way to ada@example.org" in r.text
    (letter,) = read_outbox(demo.settings)
    assert letter.recipient == "ada@example.org" and "weekly" in letter.text.lower()
    bad = demo.post("/account/digests", data={"frequency": "hourly", "csrf_token": csrf_of(demo)})
    assert bad.status_code == 400 and "No mail sent" in bad.text
    assert len(read_outbox(demo.settings)) == 1


def test_the_account_digest_form_needs_the_csrf_token(demo):
    sign_up_with(demo, "ada@example.org", digest=False)
    r = demo.post("/account/digests", data={"frequency": "daily"})
    assert r.status_code in (400, 403) and read_outbox(demo.settings) == []


def test_an_account_without_email_is_told_where_to_subscribe(demo):
    sign_up_with(demo, "", digest=True)
    assert read_outbox(demo.settings) == []
    assert "has no email address" in demo.get("/account").text


def test_the_account_page_says_nothing_a_link_put_in_its_address(demo):
    sign_up_with(demo, "ada@example.org", digest=False)
    forged = demo.get("/account?digest=error&why=Call+this+number")
    assert "Call this number" not in forged.text and "No mail sent" not in forged.text


def test_only_paths_on_this_site_become_links_in_the_outbox():
    from paperboy.web.outbox import own_links

    base = "http://127.0.0.1:8000"
    pieces = own_links(f"see {base}//evil.example.com and {base}/papers/2405.15738", base)
    assert [href for _, href in pieces if href] == ["/papers/2405.15738"]  # never //host
