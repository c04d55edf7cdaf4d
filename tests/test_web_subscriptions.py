"""The subscription pages, mounted in a minimal app: subscribe, confirm, one-click, preferences.

Mail goes to a real SMTP server process; links are taken from the messages it received.
"""

import re
import time
from datetime import date
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paperboy.mail.digests import DigestRun
from paperboy.mail.links import Links
from paperboy.web.deps import Web, templates
from paperboy.web.subscriptions import router
from tests.mail_fixtures import mail_settings


@pytest.fixture
def site(papers_store, smtp_sink, data_dir):
    sink = smtp_sink()
    settings = mail_settings(data_dir, sink.port)
    app = FastAPI()
    app.state.web = Web(settings, papers_store, search=None, templates=templates())
    app.include_router(router)
    with TestClient(app, base_url="https://papers.example.org") as client:
        yield SimpleNamespace(client=client, sink=sink, store=papers_store, settings=settings)


def local(url: str) -> str:
    """The path and query of a link in a mail, to request from the test client."""
    assert url.startswith("https://papers.example.org/")
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https://papers\.example\.org{re.escape(path)}\?token=\S+", text).group(0)


def subscribe(site, **form):
    data = {"email": "ada@example.org", "frequency": "daily", "include_top": "1", **form}
    return site.client.post("/subscribe", data=data)


def confirmed(site, **form) -> int:
    """Subscribe through the form and confirm through the mailed link; the subscriber id."""
    assert subscribe(site, **form).status_code == 200
    confirm = link_in(site.sink.messages()[-1], "/subscriptions/confirm")
    token = confirm.split("token=")[1]
    page = site.client.get(local(confirm))
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    done = site.client.post("/subscriptions/confirm", data={"token": token})
    assert done.status_code == 200 and "You are subscribed" in done.text
    return site.store.subscriber_by_email(form.get("email", "ada@example.org")).id


def test_form_page(site):
    page = site.client.get("/subscribe?topic=diffusion%20-video")
    assert page.status_code == 200
    assert 'action="/subscribe"' in page.text and "diffusion -video</textarea>" in page.text


def test_subscribe_and_confirm_by_the_mailed_link(site):
    sid = confirmed(site, topics="agent\ndiffusion -video", name="Ada Lövelace")
    sub = site.store.subscriber(sid)
    assert sub.status == "active" and sub.topics == ["agent", "diffusion -video"]
    assert sub.name == "Ada Lövelace"
    [mail] = site.sink.messages()
    # The confirmation goes to the address alone: the name is whatever the form was given.
    body = mail.get_body(("plain",)).get_content() + mail.get_body(("html",)).get_content()
    assert mail["To"].addresses[0].display_name == "" and "Lövelace" not in body


def test_the_confirm_page_shows_the_name_the_digests_will_use(site):
    assert subscribe(site, name="Ada <Lovelace>").status_code == 200
    page = site.client.get(local(link_in(site.sink.messages()[-1], "/subscriptions/confirm")))
    assert "addressed to “Ada &lt;Lovelace&gt;”" in page.text


def test_the_answer_does_not_tell_whether_an_address_is_subscribed(site):
    confirmed(site, email="known@example.org")
    site.store.mark_confirmation_sent(1, when=None)
    # Let the rate limit pass for the known address.
    site.store.conn.execute("UPDATE subscribers SET confirm_sent_at = '2000-01-01T00:00:00+00:00'")
    known = subscribe(site, email="known@example.org")
    fresh = subscribe(site, email="fresh@example.org")
    assert known.status_code == fresh.status_code == 200
    assert known.text.replace("known@", "X@") == fresh.text.replace("fresh@", "X@")
    subjects = {m["X-Sink-Rcpt"]: m["Subject"] for m in site.sink.messages()[1:]}
    assert subjects == {
        "known@example.org": "Your paperboy subscription",
        "fresh@example.org": "Confirm your paperboy subscription",
    }


@pytest.mark.parametrize(
    "form, words",
    [
        ({"email": "not-an-address"}, "exactly one @"),
        ({"name": "Ada\r\nBcc: victim@example.org"}, "line breaks"),
        ({"topics": "ok\n" + "x" * 300}, "too long"),
        ({"topics": "\n".join(f"t{i}" for i in range(20))}, "too many"),
        ({"frequency": "hourly"}, "frequency must be"),
        ({"topics": "x" * 6000}, "far more text"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(site, form, words):
    page = subscribe(site, **form)
    assert page.status_code == 400 and words in page.text
    assert site.store.count_subscribers() == {} and site.sink.count() == 0


def test_a_form_posted_from_another_site_is_refused(site):
    page = site.client.post(
        "/subscribe", data={"email": "ada@example.org"}, headers={"Origin": "https://evil.example"}
    )
    assert page.status_code == 403 and site.store.count_subscribers() == {}


def test_one_click_unsubscribe_from_a_received_digest(site):
    sid = confirmed(site, topics="agent")
    report = DigestRun(site.store, site.settings).run(date(2026, 8, 20))
    assert report.sent == 1
    digest = site.sink.messages()[-1]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", digest["List-Unsubscribe"]).group(1)
    # What a mail provider does for RFC 8058: POST the URL with this body, no cookies.
    answer = site.client.post(
        local(url),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and "Unsubscribed" in answer.text
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert site.store.subscriber(sid).status == "unsubscribed"
    # Idempotent, and the next run mails nobody.
    assert site.client.post(local(url), content=b"List-Unsubscribe=One-Click").status_code == 200
    assert DigestRun(site.store, site.settings).run(date(2026, 8, 21)).due == 0


def test_unsubscribe_link_in_the_body_asks_before_acting(site):
    sid = confirmed(site)
    DigestRun(site.store, site.settings).run(date(2026, 8, 21))
    url = link_in(site.sink.messages()[-1], "/subscriptions/unsubscribe")
    page = site.client.get(local(url))
    assert page.status_code == 200 and "<button" in page.text
    assert site.store.subscriber(sid).status == "active"


def test_tampered_links_are_refused(site):
    sid = confirmed(site)
    token = Links(site.settings).token("unsubscribe", sid)
    bad = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    answer = site.client.post(f"/subscriptions/unsubscribe?token={bad}")
    assert answer.status_code == 400 and "does not work" in answer.text
    assert site.store.subscriber(sid).status == "active"
    # A preferences token does not unsubscribe, and vice versa.
    prefs = Links(site.settings).token("preferences", sid)
    assert site.client.post(f"/subscriptions/unsubscribe?token={prefs}").status_code == 400
    assert site.client.get(f"/subscriptions/preferences?token={token}").status_code == 400


def test_preferences_page_from_a_digest(site):
    sid = confirmed(site, topics="agent")
    DigestRun(site.store, site.settings).run(date(2026, 8, 21))
    url = link_in(site.sink.messages()[-1], "/subscriptions/preferences")
    page = site.client.get(local(url))
    assert page.status_code == 200 and "agent</textarea>" in page.text
    token = url.split("token=")[1]
    saved = site.client.post(
        "/subscriptions/preferences",
        data={
            "token": token,
            "frequency": "weekly",
            "topics": 'world model\n"speculative decoding"',
            "include_top": "",
            "paused": "1",
            "action": "save",
        },
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    sub = site.store.subscriber(sid)
    assert (sub.frequency, sub.topics, sub.include_top, sub.status) == (
        "weekly",
        ["world model", '"speculative decoding"'],
        False,
        "paused",
    )
    refused = site.client.post(
        "/subscriptions/preferences",
        data={"token": token, "frequency": "weekly", "topics": "evil\x0bquery", "action": "save"},
    )
    assert refused.status_code == 400 and "control character" in refused.text
    gone = site.client.post(
        "/subscriptions/preferences", data={"token": token, "action": "unsubscribe"}
    )
    assert gone.status_code == 200 and site.store.subscriber(sid).status == "unsubscribed"


def test_expired_preferences_link_offers_a_new_one(site):
    sid = confirmed(site)
    old = Links(site.settings, clock=lambda: time.time() - 91 * 86400).token("preferences", sid)
    page = site.client.get(f"/subscriptions/preferences?token={old}")
    assert page.status_code == 400 and "expired" in page.text
    assert 'action="/subscribe"' in page.text


def test_expired_confirmation_link(site):
    subscribe(site)
    sub = site.store.subscriber_by_email("ada@example.org")
    old = Links(site.settings, clock=lambda: time.time() - 49 * 3600).token(
        "confirm", sub.id, sub.nonce
    )
    answer = site.client.post("/subscriptions/confirm", data={"token": old})
    assert answer.status_code == 400 and "expired" in answer.text
    assert site.store.subscriber(sub.id).status == "pending"


def from_client(site, address: str) -> TestClient:
    return TestClient(
        site.client.app, base_url="https://papers.example.org", client=(address, 40000)
    )


def test_asking_again_and_again_sends_one_mail(site):
    answers = [
        from_client(site, f"198.51.100.{i}").post(
            "/subscribe", data={"email": "ada@example.org", "name": f"try {i}"}
        )
        for i in range(10)
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1  # the same answer, mail or not
    assert site.sink.count() == 1


def test_one_client_can_ask_for_a_few_mails_an_hour(site):
    from paperboy.web import limits

    client = from_client(site, "203.0.113.9")
    codes = [
        client.post("/subscribe", data={"email": f"victim{i}@example.org"}).status_code
        for i in range(limits.SUBSCRIBE.hits)
    ]
    assert codes == [200] * limits.SUBSCRIBE.hits
    refused = client.post("/subscribe", data={"email": "one-more@example.org"})
    assert refused.status_code == 429 and "Too many subscription requests" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= limits.SUBSCRIBE.seconds
    assert site.sink.count() == limits.SUBSCRIBE.hits
    assert site.store.subscriber_by_email("one-more@example.org") is None
    # Bad input is answered as before and costs nothing; other clients are not affected.
    assert client.post("/subscribe", data={"email": "nope"}).status_code == 400
    assert (
        from_client(site, "198.51.100.1")
        .post("/subscribe", data={"email": "one-more@example.org"})
        .status_code
        == 200
    )
