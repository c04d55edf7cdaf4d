"""Composing: which papers go into a digest, and the MIME message as a mail client parses it."""

import email
import email.policy
import re
from datetime import UTC, date, datetime
from email.header import decode_header, make_header

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperboy.mail.compose import (
    Composer,
    HeaderInjection,
    build_message,
    encode_address,
    encode_text_header,
    select_digest,
)
from paperboy.mail.links import Links
from paperboy.mail.records import Subscriber
from paperboy.papers import FeedEntry, Paper
from tests.mail_fixtures import mail_settings

D19, D20, D21 = date(2026, 8, 19), date(2026, 8, 20), date(2026, 8, 21)
NOW = datetime(2026, 8, 21, 7, 0, tzinfo=UTC)


def paper(pid: str, day: date, upvotes: int = 1, title: str | None = None) -> Paper:
    return Paper(
        id=pid,
        title=title or f"Paper {pid}",
        abstract="An abstract.",
        authors=["A. Author"],
        upvotes=upvotes,
        entry=FeedEntry(day, "hf"),
    )


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


# -- choosing papers -------------------------------------------------------------------------
def test_each_paper_at_most_once_across_sections():
    top = [paper("1", D21, 50), paper("2", D21, 40), paper("3", D21, 30)]
    sub = Subscriber(1, "a@b.org", topics=["agents", "vision"])
    hits = {
        "agents": [paper("2", D21), paper("4", D21)],
        "vision": [paper("4", D21), paper("5", D21), paper("2", D21)],
    }
    digest = select_digest(sub, "daily:x", (D21, D21), top, hits, set(), 2, 5)
    sections = [[p.id for p in s.papers] for s in digest.sections]
    assert sections == [["1", "2"], ["4"], ["5"]]
    ids = [p.id for p in digest.papers]
    assert len(ids) == len(set(ids))


def test_papers_sent_before_and_outside_the_window_are_left_out():
    top = [paper("1", D21, 50), paper("2", D20, 40), paper("3", D21, 30)]
    sub = Subscriber(1, "a@b.org", topics=["q"])
    hits = {"q": [paper("3", D21), paper("6", D19), paper("7", D21)]}
    digest = select_digest(sub, "daily:x", (D21, D21), top, hits, {"1"}, 10, 10)
    assert [[p.id for p in s.papers] for s in digest.sections] == [["3"], ["7"]]


def test_topic_section_counts_what_it_does_not_show():
    sub = Subscriber(1, "a@b.org", include_top=False, topics=["q"])
    hits = {"q": [paper(str(i), D21) for i in range(8)]}
    digest = select_digest(sub, "daily:x", (D21, D21), [], hits, set(), 10, 3)
    assert [s.kind for s in digest.sections] == ["topic"]
    assert len(digest.sections[0].papers) == 3 and digest.sections[0].more == 5


def test_nothing_new_is_an_empty_digest():
    sub = Subscriber(1, "a@b.org", topics=["q"])
    digest = select_digest(sub, "daily:x", (D21, D21), [paper("1", D20)], {"q": []}, set(), 5, 5)
    assert digest.empty


# -- headers ---------------------------------------------------------------------------------
def test_non_ascii_names_and_subjects_are_encoded_words():
    to = encode_address("Zoë Ångström", "zoe@example.org")
    assert to.isascii() and "=?utf-8?" in to
    subject = encode_text_header("Subject", "Zetta ζ: a closed loop · paperboy daily")
    raw = f"To: {to}\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()
    parsed = parse(raw)
    assert parsed["To"].addresses[0].display_name == "Zoë Ångström"
    assert parsed["Subject"] == "Zetta ζ: a closed loop · paperboy daily"


def test_ascii_names_with_specials_are_quoted():
    parsed = parse(f"To: {encode_address('Lovelace, Ada', 'ada@example.org')}\r\n\r\n".encode())
    assert parsed["To"].addresses[0].display_name == "Lovelace, Ada"
    assert parsed["To"].addresses[0].addr_spec == "ada@example.org"


@pytest.mark.parametrize(
    "evil",
    ["Ada\r\nBcc: victim@example.org", "Ada\nX: y", "Ada\rX", "Ada\x00", "Ada\u2028Bcc: v@e.org"],
)
def test_header_injection_is_refused_at_compose_time(evil):
    with pytest.raises(HeaderInjection):
        encode_address(evil, "ada@example.org")
    with pytest.raises(HeaderInjection):
        encode_text_header("Subject", evil)


def test_build_message_refuses_raw_line_breaks_in_values():
    with pytest.raises(HeaderInjection):
        build_message([("Subject", "hi\r\nBcc: x@y.org")], "t", "h")


def test_long_list_unsubscribe_url_stays_one_unencoded_url():
    url = "https://papers.example.org/subscriptions/unsubscribe?token=" + "x" * 150
    raw = build_message([("List-Unsubscribe", f"<{url}>")], "text", "<p>html</p>")
    parsed = parse(raw)
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert b"=?" not in raw.split(b"\r\n\r\n")[0]


def test_body_lines_are_crlf_and_short_enough_for_smtp():
    text = "é" * 3000 + "\n" + "plain line\n"
    raw = build_message([("Subject", "x")], text, "<p>" + "ü" * 5000 + "</p>")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = parse(raw)
    plain, html = [part.get_content() for part in parsed.iter_parts()]
    assert plain.replace("\r\n", "\n") == text
    assert "ü" * 5000 in html


# -- whole digests ---------------------------------------------------------------------------
def test_digest_message_as_a_client_sees_it(papers_store, data_dir):
    settings = mail_settings(data_dir)
    links = Links(settings)
    composer = Composer(settings, links)
    top = papers_store.papers_between(D20, D20, limit=30)
    zetta = next(p for p in top if "ζ" in p.title)
    sub = Subscriber(11, "zoe@example.org", name="Zoë Ångström", topics=["agents"])
    hits = {"agents": [p for p in top if "agent" in p.abstract.lower()]}
    # Put the non-ASCII title first, so it leads the subject.
    top = [zetta] + [p for p in top if p is not zetta]
    digest = select_digest(sub, "daily:2026-08-20", (D20, D20), top, hits, set(), 5, 3)
    raw = composer.digest(sub, digest, "<m1@papers.example.org>", NOW)
    msg = parse(raw)

    assert msg["From"].addresses[0].addr_spec == "digest@papers.example.org"
    assert msg["To"].addresses[0].display_name == "Zoë Ångström"
    assert msg["Subject"].startswith(zetta.title[:20])
    assert msg["Subject"].endswith("paperboy daily")
    assert msg["Date"].datetime == NOW
    assert msg["Message-ID"] == "<m1@papers.example.org>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(https://[^>]+)>", msg["List-Unsubscribe"]).group(1)
    assert links.read("unsubscribe", unsubscribe.split("token=")[1]) == (11, "")
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    text, markup = plain.get_content(), html.get_content()
    for p in digest.papers:
        assert p.title in text
        assert f"https://papers.example.org/papers/{p.id}" in markup
        assert f"https://arxiv.org/abs/{p.id}" in text
        if p.code_url:
            assert p.code_url in markup
    assert "Zetta ζ" in markup and "Haitz Sáez de Ocáriz Borde" in text
    assert "TOPIC: agents" in text and ">agents</span>" in markup
    assert unsubscribe.replace("&", "&amp;") in markup and unsubscribe in text
    assert "/subscriptions/preferences?token=" in text
    assert "<img" not in markup and "style=" in markup  # inline CSS, no remote images


def test_a_digest_shows_text_mode_latex_as_text(data_dir):
    paper = Paper(
        id="2608.99990",
        title=r"\textbf{Fast} attention with \ours",
        abstract=r"We cut the cost by 50\%, in 1--2 days, for \$400K.",
        authors=["A. Author"],
        published=D20,
        entry=FeedEntry(D20, "hf"),
    )
    sub = Subscriber(12, "lee@example.org", name="Lee", topics=[])
    digest = select_digest(sub, "daily:2026-08-20", (D20, D20), [paper], {}, set(), 5, 3)
    msg = parse(
        Composer(mail_settings(data_dir), Links(mail_settings(data_dir))).digest(
            sub, digest, "<m2@papers.example.org>", NOW
        )
    )
    plain, html = list(msg.iter_parts())
    for shown in (str(msg["Subject"]), plain.get_content(), html.get_content()):
        assert "\\textbf" not in shown and "\\%" not in shown and "\\ours" not in shown
        assert "Fast attention with ours" in shown
    assert "50%, in 1\u20132 days, for $400K." in plain.get_content()


def test_confirmation_message(papers_store, data_dir):
    settings = mail_settings(data_dir)
    links = Links(settings)
    sub = Subscriber(3, "ada@example.org", name="Ada", nonce="n1", topics=['"world model"'])
    msg = parse(Composer(settings, links).confirmation(sub, NOW))
    assert msg["Subject"] == "Confirm your paperboy subscription"
    assert "List-Unsubscribe" not in msg
    text = msg.get_body(("plain",)).get_content()
    url = re.search(r"https://\S+/subscriptions/confirm\?token=\S+", text).group(0)
    assert links.read("confirm", url.split("token=")[1]) == (3, "n1")
    assert "with alerts for 1 topic" in text and "48 hours" in text


@pytest.mark.parametrize("kind", ["confirmation", "already_subscribed"])
def test_mails_asked_for_by_the_form_print_nothing_typed_into_it(data_dir, kind):
    """Whoever fills in the form chooses the name and topics; the owner of the address gets
    the mail. Neither may carry a stranger's words (a spam or phishing line) to them."""
    settings = mail_settings(data_dir)
    words = ["Claim your prize at evil.example", "call +1 555 0100 now"]
    sub = Subscriber(
        3, "ada@example.org", name=words[0], nonce="n1", topics=[words[1]], status="active"
    )
    raw = getattr(Composer(settings, Links(settings)), kind)(sub, NOW)
    msg = parse(raw)
    assert msg["To"].addresses[0].display_name == "" and msg["To"] == "ada@example.org"
    shown = msg.get_body(("plain",)).get_content() + msg.get_body(("html",)).get_content()
    for typed in words:
        assert typed not in shown
    assert b"evil" not in raw and b"555" not in raw


# -- property: any clean text survives encoding and a client's decoding ----------------------
clean_words = st.lists(
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=30
    ),
    min_size=1,
    max_size=12,
).map(" ".join)


@hsettings(max_examples=300, deadline=None)
@given(clean_words)
def test_subjects_and_names_round_trip_through_the_parser(text):
    subject = encode_text_header("Subject", text)
    to = encode_address(text, "zoe@example.org")
    raw = f"Subject: {subject}\r\nTo: {to}\r\n\r\n".encode("ascii")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = parse(raw)
    assert parsed["Subject"] == text
    assert parsed["To"].addresses[0].addr_spec == "zoe@example.org"
    phrase = to.rsplit(" <", 1)[0]
    if phrase.startswith("=?"):
        # RFC 2047 decoding (adjacent encoded words join without the folding space).
        assert str(make_header(decode_header(phrase.replace("\r\n", "")))) == text
        if len(text.encode()) <= 45:  # one encoded word: every parser agrees
            assert parsed["To"].addresses[0].display_name == text
    else:
        assert parsed["To"].addresses[0].display_name == text


def test_long_subjects_are_folded_under_78_characters():
    title = "A Very Long Title About Reinforcement Learning With Verifiable Rewards " * 3
    for text in (title.strip(), "Ünïcode " + title.strip()):
        raw = f"Subject: {encode_text_header('Subject', text)}\r\n\r\n".encode()
        assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
        assert parse(raw)["Subject"] == text
