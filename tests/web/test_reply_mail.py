"""Reply mail through the real app and a real SMTP server process (tests/smtp_sink.py): the
opt-in link, one notice per reply and recipient, never to the replier, never to an unconfirmed
address, one-click unsubscribe, and no second send after a sender died or retried."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from paperboy.mail.replies import send_replies
from paperboy.store.discussions import Discussions
from paperboy.store.replies import Replies
from tests.mail_fixtures import mail_settings

from .conftest import csrf_of
from .test_discussions import PAPER, new_id, post_comment


@pytest.fixture
def sink(smtp_sink):
    return smtp_sink()


@pytest.fixture
def settings(tmp_path, clean_env, sink):
    return mail_settings(tmp_path / "data", sink.port, mail_backend="smtp")


def person(app, name: str, email: str | None = None) -> TestClient:
    client = TestClient(app, base_url="https://papers.example.org")
    data = {"name": name, "password": "correct horse", "csrf_token": csrf_of(client)}
    if email:
        data["email"] = email
    assert client.post("/signup", data=data, follow_redirects=False).status_code == 303
    return client


def local(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc == "papers.example.org"
    return f"{parts.path}?{parts.query}"


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https://papers\.example\.org{re.escape(path)}\?token=\S+", text)[0]


def opt_in(client: TestClient, sink, confirm: bool = True) -> None:
    before = sink.count()
    r = client.post(
        "/account/replies", data={"on": "1", "csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/account?replies=asked"
    assert sink.count() == before + 1  # the opt-in mail, sent after the response
    if confirm:
        page = client.get(local(link_in(sink.messages()[-1], "/replies/confirm")))
        assert page.status_code == 200 and "Reply mail is on" in page.text


def notices(sink) -> list:
    return [m for m in sink.messages() if "replied" in str(m["Subject"])]


@pytest.fixture
def people(app, sink):
    ada = person(app, "ada", "ada@example.org")
    bob = person(app, "bob", "bob@example.org")
    yield ada, bob
    ada.close()
    bob.close()


def test_a_reply_mails_the_opted_in_commenter_once_and_never_its_author(app, store, sink, people):
    ada, bob = people
    assert "Mail me replies" in ada.get("/account").text  # off by default
    opt_in(ada, sink)
    opt_in(bob, sink)
    assert "a mail goes to ada@example.org" in ada.get("/account").text
    first = new_id(post_comment(ada, "Does Table 2 hold?"))
    assert notices(sink) == []  # a top-level comment is no reply
    new_id(post_comment(bob, "It does, see **the appendix**", parent=first))
    [mail] = notices(sink)
    assert mail["To"].addresses[0].addr_spec == "ada@example.org"
    assert mail["Subject"].startswith("bob replied")
    assert "> It does, see **the appendix**" in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<https://papers\.example\.org/replies/unsubscribe\?token=\S+>", mail["List-Unsubscribe"]
    )
    # Ada answers in the thread: bob hears of it, ada does not hear of her own reply.
    new_id(post_comment(ada, "Thanks!", parent=first))
    assert [m["To"].addresses[0].addr_spec for m in notices(sink)] == [
        "ada@example.org",
        "bob@example.org",
    ]
    # Sending again (a retry, another process) sends nothing more.
    assert send_replies(store, app.state.web.settings).sent == 0
    assert len(notices(sink)) == 2
    assert Replies(store).counts() == {"sent": 2}


def test_no_mail_to_an_unconfirmed_address_or_one_that_never_opted_in(app, store, sink, people):
    ada, bob = people
    opt_in(ada, sink, confirm=False)  # the link is never opened
    with person(app, "carol", "carol@example.org") as carol:
        first = new_id(post_comment(ada, "A question"))
        new_id(post_comment(carol, "Me too", parent=first))
        new_id(post_comment(bob, "An answer", parent=first))
    assert notices(sink) == [] and Replies(store).counts() == {}


def test_the_one_click_unsubscribe_link_stops_reply_mail(app, store, sink, people):
    ada, bob = people
    opt_in(ada, sink)
    first = new_id(post_comment(ada, "A question"))
    new_id(post_comment(bob, "An answer", parent=first))
    [mail] = notices(sink)
    stop = mail["List-Unsubscribe"].strip("<>")
    with TestClient(app, base_url="https://papers.example.org") as provider:  # no cookies
        page = provider.get(local(stop))
        assert page.status_code == 200 and "Stop reply mail" in page.text
        done = provider.post(local(stop), content=b"List-Unsubscribe=One-Click")
        assert done.status_code == 200 and "Reply mail is off" in done.text
        tampered = provider.post(local(stop)[:-3] + "xyz")
        assert tampered.status_code == 400
    new_id(post_comment(bob, "Another answer", parent=first))
    assert len(notices(sink)) == 1
    assert "Mail me replies" in ada.get("/account").text


def reply_without_sending(store, parent: int) -> int:
    """Bob replies straight through the store: queued, but no web request sends it."""
    return Discussions(store).add(PAPER, bob_id(store), "Answer", parent_id=parent).id


def test_a_notice_a_dead_sender_claimed_is_never_sent_again(app, store, sink, people):
    ada, _ = people
    opt_in(ada, sink)
    first = new_id(post_comment(ada, "A question"))
    replies = Replies(store)
    reply = reply_without_sending(store, first)
    [key] = replies.due()
    assert key == (reply, ada_id(store))
    # A sender claimed it and died, before or after handing it to the server (it cannot
    # tell which): the notice is never sent a second time.
    assert replies.claim(*key) and not replies.claim(*key)  # and one sender wins it
    assert send_replies(store, app.state.web.settings).sent == 0
    assert notices(sink) == [] and replies.stuck() == 1


def test_a_deferred_notice_stays_queued_and_is_sent_once_later(app, store, smtp_sink, people):
    ada, _ = people
    assert Replies(store).set_address(ada_id(store), "ada@example.org")
    slow = smtp_sink("--tempfail", "ada", "--tempfail-times", "1")
    settings = mail_settings(
        app.state.web.settings.data_dir,
        slow.port,
        mail_backend="smtp",
        mail_retries=1,
        mail_retry_minutes=0,
    )
    reply_without_sending(store, new_id(post_comment(ada, "A question")))
    assert send_replies(store, settings).deferred == 1
    assert Replies(store).counts() == {"queued": 1} and notices(slow) == []
    assert send_replies(store, settings).sent == 1
    assert send_replies(store, settings).sent == 0
    assert len(notices(slow)) == 1 and Replies(store).counts() == {"sent": 1}


def test_an_address_changed_since_the_opt_in_gets_nothing(app, store, sink, people):
    ada, bob = people
    opt_in(ada, sink)
    with store.transaction() as conn:  # the account's address changes (an admin, a future form)
        conn.execute("UPDATE users SET email = 'new@example.org' WHERE name = 'ada'")
    first = new_id(post_comment(ada, "A question"))
    new_id(post_comment(bob, "An answer", parent=first))
    assert notices(sink) == [] and Replies(store).address(ada_id(store)) is None


def ada_id(store) -> int:
    return store.user_by_name("ada").id


def bob_id(store) -> int:
    return store.user_by_name("bob").id
