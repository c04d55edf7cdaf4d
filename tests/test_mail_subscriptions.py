"""Subscribing: input checks, double opt-in, never revealing who is subscribed."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from paperboy.mail.links import LinkInvalid
from paperboy.mail.subscriptions import (
    InvalidSubscription,
    Subscriptions,
    clean_name,
    clean_topics,
    normalise_email,
)
from paperboy.store import open_store
from tests.mail_fixtures import mail_settings


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ada@example.org", "ada@example.org"),
        ("  Ada.Lovelace+papers@Example.ORG ", "ada.lovelace+papers@example.org"),
        ("o'brien@example.co.uk", "o'brien@example.co.uk"),
        ("zoe@bücher.example", "zoe@xn--bcher-kva.example"),
    ],
)
def test_valid_addresses_are_normalised(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw, words",
    [
        ("", "enter an email"),
        ("ada", "exactly one @"),
        ("ada@@example.org", "exactly one @"),
        ("ada@example", "domain name"),
        ("ada@-example.org", "domain name"),
        ("ada@127.0.0.1", "domain name"),
        ("ada lovelace@example.org", "before the @"),
        (".ada@example.org", "before the @"),
        ("ada..l@example.org", "before the @"),
        ("ada@example.org\r\nBcc: victim@example.org", "line breaks"),
        ("ada@example.org\nX-Evil: 1", "line breaks"),
        ("zoë@example.org", "non-ASCII"),
        ("a" * 65 + "@example.org", "before the @"),
        ("a@" + "b" * 250 + ".org", "domain name"),
        ("a" * 5000 + "@example.org", "characters long"),
    ],
)
def test_invalid_addresses_get_clear_errors(raw, words):
    with pytest.raises(InvalidSubscription, match=words) as caught:
        normalise_email(raw)
    assert caught.value.field == "email"


@pytest.mark.parametrize("bad", ["Ada\r\nBcc: v@e.org", "Ada\x00", "Ada\u2028", "x" * 101])
def test_names_with_line_breaks_or_absurd_length_are_refused(bad):
    with pytest.raises(InvalidSubscription) as caught:
        clean_name(bad)
    assert caught.value.field == "name"


def test_topics_are_cleaned_one_per_line():
    assert clean_topics("diffusion  -video\n\n  author:hinton \ndiffusion -video", 10) == [
        "diffusion -video",
        "author:hinton",
    ]
    assert clean_topics(["a", "b"], 10) == ["a", "b"]


@pytest.mark.parametrize(
    "bad, words",
    [
        (["ok", "evil\r\nBcc: x@y.org"], "topic 2 contains a line break"),
        (["x" * 201], "topic 1 is too long"),
        ([f"t{i}" for i in range(11)], "11 topics is too many"),
        ("q\n" * 100000, "too much text"),
    ],
)
def test_bad_topics_are_refused(bad, words):
    with pytest.raises(InvalidSubscription, match=words):
        clean_topics(bad, 10)


@pytest.fixture
def service(smtp_sink, data_dir):
    sink = smtp_sink()
    settings = mail_settings(data_dir, sink.port)
    store = open_store(settings)
    yield Subscriptions(store, settings), sink
    store.close()


def confirm_token(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"/subscriptions/confirm\?token=(\S+)", text).group(1)


def test_double_opt_in(service):
    subs, sink = service
    request = subs.request(
        "Ada@Example.org", topics=["diffusion -video"], frequency="weekly", name="Ada Lovelace"
    )
    assert request.subscriber.status == "pending" and request.mail == "confirm"
    assert subs.send_request_mail(request)
    [mail] = sink.messages()
    assert mail["To"].addresses[0].addr_spec == "ada@example.org"
    assert subs.store.subscriber_by_email("ada@example.org").status == "pending"
    confirmed = subs.confirm(confirm_token(mail))
    assert confirmed.status == "active"
    assert confirmed.frequency == "weekly" and confirmed.topics == ["diffusion -video"]
    # Opening the link again is harmless.
    assert subs.confirm(confirm_token(mail)).status == "active"


def test_asking_again_for_a_subscribed_address_sends_a_notice_not_a_change(service):
    subs, sink = service
    first = subs.request("ada@example.org", topics=["agents"])
    subs.send_request_mail(first)
    subs.confirm(confirm_token(sink.messages()[0]))
    subs.store.mark_confirmation_sent(first.subscriber.id, datetime.now(UTC) - timedelta(hours=1))
    again = subs.request("ada@example.org", topics=["something else"], frequency="weekly")
    assert again.mail == "notice"
    subs.send_request_mail(again)
    notice = sink.messages()[1]
    assert notice["Subject"] == "Your paperboy subscription"
    assert "/subscriptions/preferences?token=" in notice.get_body(("plain",)).get_content()
    unchanged = subs.store.subscriber_by_email("ada@example.org")
    assert unchanged.status == "active" and unchanged.topics == ["agents"]
    assert unchanged.frequency == "daily"


def test_no_second_mail_within_the_interval_and_the_first_link_keeps_working(service):
    subs, sink = service
    subs.send_request_mail(subs.request("ada@example.org", topics=["agents"]))
    again = subs.request("ada@example.org", topics=["other"])
    assert again.mail is None and not subs.send_request_mail(again)
    assert sink.count() == 1
    assert subs.confirm(confirm_token(sink.messages()[0])).topics == ["agents"]


def test_only_the_newest_confirmation_link_counts(service):
    subs, sink = service
    subs.send_request_mail(subs.request("ada@example.org"))
    subs.store.mark_confirmation_sent(
        subs.store.subscriber_by_email("ada@example.org").id, datetime.now(UTC) - timedelta(hours=1)
    )
    subs.send_request_mail(subs.request("ada@example.org", topics=["newer"]))
    old, new = sink.messages()
    with pytest.raises(LinkInvalid, match="replaced by a newer one"):
        subs.confirm(confirm_token(old))
    assert subs.confirm(confirm_token(new)).topics == ["newer"]


def test_unsubscribed_address_can_subscribe_again_through_confirmation(service):
    subs, sink = service
    subs.send_request_mail(subs.request("ada@example.org"))
    sub = subs.confirm(confirm_token(sink.messages()[0]))
    subs.unsubscribe(subs.links.token("unsubscribe", sub.id))
    assert subs.store.subscriber(sub.id).status == "unsubscribed"
    subs.store.mark_confirmation_sent(sub.id, datetime.now(UTC) - timedelta(hours=1))
    again = subs.request("ada@example.org")
    assert again.mail == "confirm" and again.subscriber.status == "pending"


def test_invalid_input_stores_nothing(service):
    subs, sink = service
    with pytest.raises(InvalidSubscription):
        subs.request("ada@example.org", name="Ada\r\nBcc: all@example.org")
    with pytest.raises(InvalidSubscription):
        subs.request("ada@example.org", frequency="hourly")
    assert subs.store.count_subscribers() == {}
    assert sink.count() == 0


def test_preferences_save(service):
    subs, sink = service
    subs.send_request_mail(subs.request("ada@example.org", topics=["a"]))
    sub = subs.confirm(confirm_token(sink.messages()[0]))
    token = subs.links.token("preferences", sub.id)
    saved = subs.save_preferences(token, "weekly", "x\ny", include_top=False, paused=True)
    assert (saved.frequency, saved.topics, saved.include_top, saved.status) == (
        "weekly",
        ["x", "y"],
        False,
        "paused",
    )
    resumed = subs.save_preferences(token, "daily", "", include_top=True, paused=False)
    assert resumed.status == "active" and resumed.topics == []
    with pytest.raises(InvalidSubscription):
        subs.save_preferences(token, "daily", "bad\x00topic", True, False)


def test_listing_subscribers_with_and_without_a_status_on_both_backends(store):
    for address in ("ada@example.org", "bob@example.org"):
        store.request_subscription(address, "", "daily", True, ["agents"], "nonce")
    assert [s.email for s in store.subscribers()] == ["ada@example.org", "bob@example.org"]
    assert [s.email for s in store.subscribers("pending", limit=1, offset=1)] == ["bob@example.org"]
    assert store.subscribers("active") == []


def test_the_same_new_address_from_many_requests_at_once_is_one_subscriber(store):
    from concurrent.futures import ThreadPoolExecutor

    def ask(i: int):
        return store.request_subscription("race@example.org", f"n{i}", "daily", True, [], f"{i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(16)))
    ids = {sub.id for sub, _ in answers}
    assert len(ids) == 1
    assert [before for _, before in answers].count(None) == 1  # exactly one request created it
    assert store.subscriber_by_email("race@example.org").status == "pending"


# -- one request mail per address per interval, claimed in the store before sending ----------
NOW = datetime(2026, 8, 21, 9, 30, tzinfo=UTC)
INTERVAL = timedelta(minutes=10)


def claim(store, address="race@example.org", nonce="n", topics=(), now=NOW):
    return store.claim_subscription_mail(
        address, "", "daily", True, list(topics), nonce, now, INTERVAL
    )


@pytest.mark.parametrize("known", [False, True])
def test_of_many_requests_at_once_exactly_one_claims_the_mail(store, known):
    from concurrent.futures import ThreadPoolExecutor

    if known:  # an address whose last mail is long past
        claim(store, now=NOW - timedelta(hours=1))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: claim(store, nonce=f"n{i}"), range(16)))
    assert [claimed for _, _, claimed in answers].count(True) == 1
    assert len({sub.id for sub, _, _ in answers}) == 1
    winner = next(sub for sub, _, claimed in answers if claimed)
    assert store.subscriber_by_email("race@example.org").nonce == winner.nonce


def test_a_request_that_loses_the_claim_changes_nothing(store):
    first, before, claimed = claim(store, nonce="first", topics=["agents"])
    assert (before, claimed) == (None, True) and first.confirm_sent_at == NOW
    _, before, claimed = claim(
        store, nonce="second", topics=["other"], now=NOW + INTERVAL - timedelta(seconds=1)
    )
    assert (before, claimed) == ("pending", False)
    kept = store.subscriber_by_email("race@example.org")
    assert (kept.nonce, kept.topics, kept.confirm_sent_at) == ("first", ["agents"], NOW)
    again, before, claimed = claim(store, nonce="third", topics=["other"], now=NOW + INTERVAL)
    assert claimed and again.nonce == "third" and again.topics == ["other"]


def test_a_released_claim_lets_the_next_request_send_and_a_stale_release_does_nothing(store):
    sub, _, _ = claim(store)
    store.release_subscription_mail(sub.id, NOW)
    assert store.subscriber(sub.id).confirm_sent_at is None
    assert claim(store, now=NOW + timedelta(seconds=5))[2]
    store.release_subscription_mail(sub.id, NOW)  # an older claim's release: not this one's
    assert not claim(store, now=NOW + timedelta(seconds=6))[2]


def test_a_refused_mail_gives_its_claim_back_and_a_lost_connection_keeps_it(smtp_sink, data_dir):
    from paperboy.mail.send import Rejected, SMTPUnavailable

    refusing = smtp_sink("--reject", "bounce")
    settings = mail_settings(data_dir, refusing.port)
    store = open_store(settings)
    try:
        subs = Subscriptions(store, settings)
        with pytest.raises(Rejected):
            subs.send_request_mail(subs.request("bounce@example.org"))
        # The server said no: nothing arrived, so asking again may send again.
        assert subs.request("bounce@example.org").mail == "confirm"
        gone = Subscriptions(store, mail_settings(data_dir, 1))  # nothing listens on port 1
        with pytest.raises(SMTPUnavailable):
            gone.send_request_mail(gone.request("ada@example.org"))
        # No reply at all: it may have been delivered, so the interval holds.
        assert gone.request("ada@example.org").mail is None
    finally:
        store.close()
