"""Discussions through the real app (web/discussions.py): forms, permissions, limits, the
Atom feed and the JSON API, on a real SQLite store seeded from tests/fixtures."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from paperboy.store.discussions import Discussions
from paperboy.web import auth, limits

from .conftest import csrf_of, sign_up

PAPER = "2503.11945"
ATOM = "{http://www.w3.org/2005/Atom}"


def post_comment(client, body, parent=None, paper=PAPER, **extra):
    data = {"body": body, "csrf_token": csrf_of(client)} | extra
    if parent:
        data["parent_id"] = str(parent)
    return client.post(f"/papers/{paper}/comments", data=data, follow_redirects=False)


def new_id(response) -> int:
    assert response.status_code == 303, response.text
    return int(re.search(r"#c-(\d+)$", response.headers["location"])[1])


@pytest.fixture
def other(app):
    with TestClient(app) as c:
        sign_up(c, "bob")
        yield c


@pytest.fixture
def admin(app, store):
    with TestClient(app) as c:
        sign_up(c, "root")
        store.set_admin("root", True)
        yield c


def test_a_comment_and_a_reply_show_on_the_paper_page_and_count_on_its_card(client, other, store):
    sign_up(client)
    first = new_id(post_comment(client, "Does **Table 2** hold for $n > 10^6$?"))
    reply = new_id(post_comment(other, "It does, see the appendix", parent=first))
    page = client.get(f"/papers/{PAPER}").text
    assert f'id="c-{first}"' in page and f'id="c-{reply}"' in page
    assert "<strong>Table 2</strong>" in page and "$n &gt; 10^6$" in page
    assert re.search(rf'id="c-{reply}" class|class="comment reply" id="c-{reply}"', page)
    day = store.get(PAPER).entry.day.isoformat()
    feed = client.get(f"/papers/date/{day}").text
    assert f'<a class="talk" href="/papers/{PAPER}#discussion">2 comments here</a>' in feed


def test_signed_out_readers_see_the_discussion_and_are_asked_to_sign_in(client, other):
    new_id(post_comment(other, "visible to all"))
    page = client.get(f"/papers/{PAPER}").text
    assert "visible to all" in page and "to comment." in page
    r = post_comment(client, "anonymous")
    assert r.status_code == 401
    assert "anonymous" not in client.get(f"/papers/{PAPER}").text


def test_a_comment_without_the_csrf_token_is_refused(client):
    sign_up(client)
    r = client.post(f"/papers/{PAPER}/comments", data={"body": "forged"})
    assert r.status_code == 403
    assert "forged" not in client.get(f"/papers/{PAPER}").text


def test_bad_comments_say_why(client):
    sign_up(client)
    assert "needs some text" in post_comment(client, "   ").text
    assert post_comment(client, "x", parent="abc").status_code == 400
    r = post_comment(client, "reply to nothing", parent=10**6)
    assert r.status_code == 400 and "no comment #1000000" in r.text
    assert post_comment(client, "hi", paper="2699.99999").status_code == 404


def test_the_author_edits_and_the_edit_is_marked(client, other):
    sign_up(client)
    cid = new_id(post_comment(client, "tpyo"))
    assert 'name="body"' in client.get(f"/comments/{cid}/edit").text
    assert other.get(f"/comments/{cid}/edit").status_code == 403
    r = other.post(f"/comments/{cid}/edit", data={"body": "mine now", "csrf_token": csrf_of(other)})
    assert r.status_code == 403
    r = client.post(
        f"/comments/{cid}/edit",
        data={"body": "typo fixed", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/papers/{PAPER}").text
    assert "typo fixed" in page and "tpyo" not in page and "(edited)" in page


def test_delete_keeps_the_replies_under_a_placeholder(client, other):
    sign_up(client)
    cid = new_id(post_comment(client, "regrettable"))
    new_id(post_comment(other, "the reply", parent=cid))
    assert (
        other.post(f"/comments/{cid}/delete", data={"csrf_token": csrf_of(other)}).status_code
        == 403
    )
    r = client.post(
        f"/comments/{cid}/delete", data={"csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get(f"/papers/{PAPER}").text
    assert "regrettable" not in page and "deleted by its author" in page and "the reply" in page


def test_admins_hide_and_show_again(client, other, admin):
    sign_up(client)
    cid = new_id(post_comment(client, "offensive words"))
    r = other.post(f"/comments/{cid}/hide", data={"csrf_token": csrf_of(other)})
    assert r.status_code == 403
    r = admin.post(
        f"/comments/{cid}/hide", data={"csrf_token": csrf_of(admin)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "offensive words" not in other.get(f"/papers/{PAPER}").text
    assert "hidden by a moderator" in other.get(f"/papers/{PAPER}").text
    assert "offensive words" in admin.get(f"/papers/{PAPER}").text  # admins still read it
    admin.post(f"/comments/{cid}/hide", data={"hidden": "0", "csrf_token": csrf_of(admin)})
    assert "offensive words" in other.get(f"/papers/{PAPER}").text


def test_reports_reach_the_admins_once_per_user(client, other, admin):
    sign_up(client)
    cid = new_id(post_comment(client, "buy cheap pills"))
    data = {"reason": "spam", "csrf_token": csrf_of(other)}
    assert "Thank you" in other.post(f"/comments/{cid}/report", data=data).text
    assert "already" in other.post(f"/comments/{cid}/report", data=data).text
    assert other.get("/comments/reported").status_code == 403
    queue = admin.get("/comments/reported").text
    assert "buy cheap pills" in queue and "reported 1×" in queue and "bob: spam" in queue


def test_comments_are_rate_limited_per_user(client, other):
    sign_up(client)
    for n in range(limits.COMMENT.hits):
        new_id(post_comment(client, f"comment {n}"))
    r = post_comment(client, "one too many")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    new_id(post_comment(other, "another user is not held back"))


def test_the_discussion_atom_feed(client, other):
    sign_up(client)
    cid = new_id(post_comment(client, "A <b>bold</b> claim: **yes**"))
    new_id(post_comment(other, "reply", parent=cid))
    hidden = new_id(post_comment(other, "gone soon"))
    other.post(f"/comments/{hidden}/delete", data={"csrf_token": csrf_of(other)})
    r = client.get(f"/feeds/discussion/{PAPER}.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom")
    root = ET.fromstring(r.content)
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Reply by bob", "Comment by ada"]
    content = entries[1].find(f"{ATOM}content").text
    assert "<strong>yes</strong>" in content and "&lt;b&gt;bold&lt;/b&gt;" in content
    assert client.get("/feeds/discussion/2699.99999.atom").status_code == 404


def test_the_json_api_reads_threads_and_posts_with_an_api_token(client, app, store):
    sign_up(client)
    ada = store.user_by_name("ada")
    token = auth.new_token()
    store.create_api_token(ada.id, "script", auth.token_hash(token))
    with TestClient(app) as api:
        r = api.post(
            f"/api/papers/{PAPER}/comments",
            json={"body": "from a *script*"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        top = r.json()
        assert top["author"] == "ada" and top["html"] == "<p>from a <em>script</em></p>"
        r = api.post(
            f"/api/papers/{PAPER}/comments",
            json={"body": "re", "parentId": top["id"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201 and r.json()["parentId"] == top["id"]
        assert (
            api.post(f"/api/papers/{PAPER}/comments", json={"body": "no token"}).status_code == 401
        )
        assert (
            api.post(
                f"/api/papers/{PAPER}/comments",
                json={"text": "x"},
                headers={"Authorization": f"Bearer {token}"},
            ).status_code
            == 400
        )
        assert (
            api.post(
                f"/api/papers/{PAPER}/comments",
                json={"body": "x", "parentId": "1"},
                headers={"Authorization": f"Bearer {token}"},
            ).status_code
            == 400
        )
        listed = api.get(f"/api/papers/{PAPER}/comments").json()
    assert [(c["id"], [r["body"] for r in c["replies"]]) for c in listed] == [(top["id"], ["re"])]
    assert Discussions(store).counts([PAPER]) == {PAPER: 2}
    assert client.get("/api/papers/2699.99999/comments").status_code == 404
