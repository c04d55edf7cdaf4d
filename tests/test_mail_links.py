"""Signed links: they round-trip, and tampering, wrong purposes and age are refused."""

import os
import stat
import time

import pytest

from paperboy.mail.links import LinkExpired, LinkInvalid, Links, secret_key
from paperboy.mail.records import Subscriber
from tests.mail_fixtures import mail_settings


@pytest.fixture
def links(tmp_path):
    return Links(mail_settings(tmp_path))


def test_token_round_trip(links):
    token = links.token("confirm", 42, "n0nce")
    assert links.read("confirm", token) == (42, "n0nce")


@pytest.mark.parametrize("position", [0, 5, -1, -10])
def test_tampered_token_is_refused(links, position):
    token = links.token("preferences", 7)
    chars = list(token)
    # Flip the high bit of that base64url character: a data bit even in the last character,
    # whose low bits may be padding that decodes to the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if chars[position] in alphabet:
        chars[position] = alphabet[(alphabet.index(chars[position]) + 32) % 64]
    else:
        chars[position] = "A"
    with pytest.raises(LinkInvalid):
        links.read("preferences", "".join(chars))


def test_changed_subscriber_id_is_refused(links):
    # The payload is readable base64: swapping in another id must break the signature.
    mine = links.token("preferences", 7)
    other = links.token("preferences", 8)
    forged = other.split(".")[0] + "." + ".".join(mine.split(".")[1:])
    with pytest.raises(LinkInvalid):
        links.read("preferences", forged)


def test_token_for_one_purpose_is_worthless_for_another(links):
    token = links.token("preferences", 7)
    with pytest.raises(LinkInvalid):
        links.read("unsubscribe", token)
    with pytest.raises(LinkInvalid):
        links.read("confirm", token)


def test_token_from_another_installation_is_refused(tmp_path, links):
    other = Links(mail_settings(tmp_path, secret_key="another-installation-secret"))
    with pytest.raises(LinkInvalid):
        links.read("unsubscribe", other.token("unsubscribe", 7))


@pytest.mark.parametrize("junk", ["", "x", "a.b.c", "%00", "A" * 5000])
def test_junk_is_refused(links, junk):
    with pytest.raises(LinkInvalid):
        links.read("confirm", junk)


def test_confirmation_link_expires(tmp_path):
    settings = mail_settings(tmp_path, mail_confirm_hours=48)
    issued = time.time() - 49 * 3600
    old = Links(settings, clock=lambda: issued).token("confirm", 3, "n")
    with pytest.raises(LinkExpired):
        Links(settings).read("confirm", old)
    recent = Links(settings, clock=lambda: time.time() - 47 * 3600).token("confirm", 3, "n")
    assert Links(settings).read("confirm", recent) == (3, "n")


def test_preferences_link_expires_but_unsubscribe_never_does(tmp_path):
    settings = mail_settings(tmp_path, mail_link_days=90)
    long_ago = time.time() - 400 * 86400
    then = Links(settings, clock=lambda: long_ago)
    now = Links(settings)
    with pytest.raises(LinkExpired):
        now.read("preferences", then.token("preferences", 3))
    assert now.read("unsubscribe", then.token("unsubscribe", 3)) == (3, "")


def test_urls_carry_tokens_for_the_right_pages(links):
    sub = Subscriber(id=5, email="ada@example.org", nonce="abc")
    assert links.confirm_url(sub).startswith(
        "https://papers.example.org/subscriptions/confirm?token="
    )
    token = links.unsubscribe_url(sub).split("token=")[1]
    assert links.read("unsubscribe", token) == (5, "")
    assert links.paper_url("2608.19880") == "https://papers.example.org/papers/2608.19880"
    assert links.search_url('"world model" -video') == (
        "https://papers.example.org/search?q=%22world+model%22+-video"
    )


def test_secret_key_file_is_generated_once_with_mode_0600(tmp_path):
    settings = mail_settings(tmp_path / "data", secret_key="")
    first = secret_key(settings)
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret_key(settings) == first
    assert len(first) >= 32
    # Links made by one process are read by the next one.
    token = Links(settings).token("unsubscribe", 9)
    assert Links(settings).read("unsubscribe", token) == (9, "")


def test_a_broken_key_file_says_what_to_do(tmp_path):
    from paperboy.config import ConfigError

    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError, match="delete it"):
        secret_key(mail_settings(tmp_path, secret_key=""))


def test_a_key_made_by_many_requests_at_once_is_one_whole_key(tmp_path):
    """Concurrent first uses (the first sign-ups of a new instance) all get the same, complete
    key: none reads a key file another one has created but not yet written."""
    import threading

    settings = mail_settings(tmp_path / "data", secret_key="")
    start, keys, errors = threading.Barrier(16), [], []

    def first_use():
        start.wait()
        try:
            keys.append(secret_key(settings))
        except Exception as exc:  # the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(keys)) == 1 and len(keys[0]) >= 32
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]  # no drafts left
