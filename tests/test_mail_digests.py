"""Digest runs against a real SMTP server process: exactly once, never a paper twice, faults."""

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date

import pytest

from paperboy.mail.digests import DigestRun, DigestRunBusy, NotSubscribed
from paperboy.search import open_search
from tests.mail_fixtures import mail_settings

D19, D20, D21 = date(2026, 8, 19), date(2026, 8, 20), date(2026, 8, 21)
SATURDAY = date(2026, 8, 22)


def add_active(store, email, topics=(), frequency="daily", name="", include_top=True):
    sub, _ = store.request_subscription(email, name, frequency, include_top, list(topics), "nonce")
    return store.confirm_subscriber(sub.id, "nonce")


def recipients(sink) -> list[str]:
    return [m["X-Sink-Rcpt"] for m in sink.messages()]


def paper_ids(message) -> set[str]:
    text = message.get_body(("plain",)).get_content()
    return {line.split("/abs/")[1].strip() for line in text.splitlines() if "/abs/" in line}


@pytest.fixture
def sink(smtp_sink):
    return smtp_sink()


def run(store, settings, day, **kwargs):
    return DigestRun(store, settings).run(day, **kwargs)


def test_every_due_subscriber_gets_one_digest_and_a_rerun_sends_nothing(
    papers_store, sink, data_dir
):
    settings = mail_settings(data_dir, sink.port, mail_weekly_day="friday")
    daily = add_active(papers_store, "daily@example.org", topics=["agents"], name="Dai Lee")
    weekly = add_active(papers_store, "weekly@example.org", frequency="weekly")
    papers_store.request_subscription("pending@example.org", "", "daily", True, [], "n")
    paused = add_active(papers_store, "paused@example.org")
    papers_store.update_subscriber(paused.id, "daily", True, True, [])
    gone = add_active(papers_store, "gone@example.org")
    papers_store.unsubscribe(gone.id)

    report = run(papers_store, settings, D21)
    assert (report.sent, report.deferred, report.rejected) == (2, 0, 0)
    assert sorted(recipients(sink)) == ["daily@example.org", "weekly@example.org"]
    by_rcpt = {m["X-Sink-Rcpt"]: m for m in sink.messages()}
    logged = {row["email"]: row for row in papers_store.send_log()}
    assert logged["daily@example.org"]["period"] == "daily:2026-08-21"
    assert logged["weekly@example.org"]["period"] == "weekly:2026-W34"
    for address, row in logged.items():
        assert row["status"] == "sent"
        assert by_rcpt[address]["Message-ID"] == row["message_id"]
    # The weekly digest covers all three feed days; the daily one only the last.
    assert len(paper_ids(by_rcpt["weekly@example.org"])) == settings.mail_digest_size
    assert papers_store.subscriber(daily.id).covered_through == D21
    assert papers_store.subscriber(weekly.id).covered_through == D21

    again = run(papers_store, settings, D21)
    assert again.sent == 0 and again.done_before == 2
    assert sink.count() == 2


def test_no_paper_twice_across_sections_and_days(papers_store, sink, data_dir):
    settings = mail_settings(data_dir, sink.port, mail_digest_size=5, mail_topic_size=10)
    add_active(papers_store, "ada@example.org", topics=["agent", "model", "learning"])
    first = run(papers_store, settings, D20)
    second = run(papers_store, settings, D21)
    assert first.sent == second.sent == 1
    day20, day21 = sink.messages()
    ids20, ids21 = paper_ids(day20), paper_ids(day21)
    assert ids20 and ids21 and not ids20 & ids21
    assert first.papers == len(ids20) and second.papers == len(ids21)
    feed21 = {p.id for p in papers_store.papers_on(D21)}
    assert ids21 <= feed21
    assert papers_store.sent_paper_ids(1, ids20 | ids21) == ids20 | ids21


def test_topic_section_ranks_matches_of_the_period(papers_store, sink, data_dir):
    settings = mail_settings(data_dir, sink.port, mail_topic_size=3)
    add_active(papers_store, "ada@example.org", topics=["agent"], include_top=False)
    run(papers_store, settings, D21)
    [mail] = sink.messages()
    ids = paper_ids(mail)
    matching = [
        p for p in papers_store.papers_on(D21) if "agent" in f"{p.title} {p.abstract}".lower()
    ]
    assert len(ids) == min(3, len(matching))
    assert ids <= {p.id for p in matching}
    text = mail.get_body(("plain",)).get_content()
    assert "TOPIC: agent" in text and "TOP PAPERS" not in text
    if len(matching) > 3:
        assert f"{len(matching) - 3} more" in text and "/search?q=agent" in text


def test_nothing_new_sends_nothing(papers_store, sink, data_dir):
    settings = mail_settings(data_dir, sink.port)
    add_active(papers_store, "ada@example.org", topics=["no such topic qqqzzz"], include_top=False)
    report = run(papers_store, settings, D21)
    assert report.empty == 1 and report.sent == 0 and sink.count() == 0
    assert papers_store.send_log()[0]["status"] == "empty"


def test_weekends_send_no_daily_digest(papers_store, sink, data_dir):
    add_active(papers_store, "ada@example.org")
    report = run(papers_store, mail_settings(data_dir, sink.port), SATURDAY)
    assert report.frequencies == [] and report.sent == 0 and sink.count() == 0


def test_only_one_subscriber_whatever_the_day(papers_store, sink, data_dir):
    settings = mail_settings(data_dir, sink.port)
    add_active(papers_store, "ada@example.org")
    add_active(papers_store, "bob@example.org")
    report = run(papers_store, settings, SATURDAY, only="bob@example.org")
    assert report.sent == 1 and recipients(sink) == ["bob@example.org"]
    with pytest.raises(NotSubscribed):
        run(papers_store, settings, D21, only="nobody@example.org")


def test_dry_run_composes_but_sends_and_records_nothing(papers_store, sink, data_dir):
    add_active(papers_store, "ada@example.org", topics=["agent"])
    seen = []
    report = run(
        papers_store,
        mail_settings(data_dir, sink.port),
        D21,
        dry_run=True,
        on_message=lambda sub, raw: seen.append(raw),
    )
    assert report.sent == 1 and len(seen) == 1 and b"List-Unsubscribe" in seen[0]
    assert sink.count() == 0 and papers_store.send_log() == []
    assert papers_store.subscriber(1).covered_through is None


def test_transient_failure_is_deferred_and_sent_by_the_next_run(papers_store, smtp_sink, data_dir):
    sink = smtp_sink("--tempfail", "grey", "--tempfail-times", "3")
    settings = mail_settings(data_dir, sink.port, mail_retries=2)
    add_active(papers_store, "ada@example.org")
    grey = add_active(papers_store, "grey@example.org")
    first = run(papers_store, settings, D21)
    assert (first.sent, first.deferred) == (1, 1)
    row = papers_store.send_log(subscriber_id=grey.id)[0]
    assert row["status"] == "deferred" and row["code"] == 451
    second = run(papers_store, settings, D21)
    assert (second.sent, second.done_before) == (1, 1)
    assert sorted(recipients(sink)) == ["ada@example.org", "grey@example.org"]
    assert papers_store.send_log(subscriber_id=grey.id)[0]["attempts"] == 2


def test_permanent_failures_mark_the_address_bouncing(papers_store, smtp_sink, data_dir):
    sink = smtp_sink("--reject", "gone")
    settings = mail_settings(data_dir, sink.port, mail_bounce_limit=2)
    gone = add_active(papers_store, "gone@example.org")
    add_active(papers_store, "ada@example.org")
    first = run(papers_store, settings, D20)
    assert (first.rejected, first.sent, first.now_bouncing) == (1, 1, 0)
    assert papers_store.subscriber(gone.id).status == "active"
    again = run(papers_store, settings, D20)  # a rejected digest is final: not retried
    assert again.done_before == 2 and again.rejected == 0
    second = run(papers_store, settings, D21)
    assert (second.rejected, second.now_bouncing) == (1, 1)
    assert papers_store.subscriber(gone.id).status == "bouncing"
    assert [(period, code) for period, code, _, _ in papers_store.bounces(gone.id)] == [
        ("daily:2026-08-20", 550),
        ("daily:2026-08-21", 550),
    ]
    assert recipients(sink) == ["ada@example.org", "ada@example.org"]
    # Bouncing addresses are no longer mailed.
    papers_store.forget_subscriber(2)
    assert run(papers_store, settings, date(2026, 8, 24)).due == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_stops_the_run_and_the_next_run_sends_the_rest(
    papers_store, smtp_sink, data_dir
):
    for i in range(5):
        add_active(papers_store, f"user{i}@example.org")
    down = mail_settings(data_dir, free_port(), mail_retries=2)
    first = run(papers_store, down, D21)
    # The message in hand and those already composed behind it are deferred; the rest wait.
    assert first.sent == 0 and 1 <= first.deferred <= 5 and "after 2 tries" in first.stopped
    assert {row["status"] for row in papers_store.send_log()} == {"deferred"}
    sink = smtp_sink()
    second = run(papers_store, mail_settings(data_dir, sink.port), D21)
    assert second.sent == 5
    assert sorted(recipients(sink)) == [f"user{i}@example.org" for i in range(5)]


def test_each_distinct_query_is_searched_once_per_run(papers_store, sink, data_dir):
    class CountingSearch:
        """The real search engine, counting the queries it is asked."""

        def __init__(self, engine):
            self.engine, self.asked = engine, collections.Counter()

        def search(self, query, *args, **kwargs):
            self.asked[query] += 1
            return self.engine.search(query, *args, **kwargs)

    settings = mail_settings(data_dir, sink.port)
    for i in range(12):
        second = ["video", "model"][i % 2]
        add_active(papers_store, f"user{i}@example.org", topics=["agent", second])
    search = CountingSearch(open_search(papers_store, settings))
    report = DigestRun(papers_store, settings, search=search).run(D21)
    assert report.sent == 12 and report.queries == 3
    assert search.asked == {"agent": 1, "video": 1, "model": 1}


def test_runs_do_not_overlap(papers_store, sink, data_dir):
    settings = mail_settings(data_dir, sink.port)
    add_active(papers_store, "ada@example.org")
    live = {
        "id": "other",
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": "now",
        "beat": time.time(),
    }
    assert papers_store.take_lock("digest-run", live, lambda rec: False) is None
    with pytest.raises(DigestRunBusy, match=f"pid {os.getpid()}"):
        run(papers_store, settings, D21)
    # A holder whose process is gone (kill -9) is taken over.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = dict(live, pid=dead.pid)
    papers_store.take_lock("digest-run", stale, lambda rec: True)
    assert run(papers_store, settings, D21).sent == 1


@pytest.mark.slow
@pytest.mark.parametrize("server", ["commits-on-reply", "commits-before-reply"])
def test_kill_9_mid_run_then_rerun_delivers_each_digest_exactly_once(
    papers_store, smtp_sink, data_dir, server, database_url
):
    """A real `paperboy digest send` process, killed twice, against a real SMTP server.

    The server waits 40 ms per message; "commits-before-reply" stores the message before that
    wait, so a kill during it leaves a delivered message the run never recorded as sent.
    """
    subscribers = 60
    for i in range(subscribers):
        add_active(papers_store, f"user{i:02d}@example.org", topics=["agent"])
    options = ["--delay", "0.04"] + (["--store-first"] if server == "commits-before-reply" else [])
    sink = smtp_sink(*options)
    env = dict(
        os.environ,
        PAPERBOY_SMTP_HOST="127.0.0.1",
        PAPERBOY_SMTP_PORT=str(sink.port),
        PAPERBOY_PUBLIC_URL="https://papers.example.org",
        PAPERBOY_MAIL_FROM="digest@papers.example.org",
        PAPERBOY_SECRET_KEY="test-secret-key-0123456789",
        PAPERBOY_DATABASE_URL=database_url,
    )
    command = [
        sys.executable,
        "-m",
        "paperboy",
        "--data-dir",
        str(data_dir),
        "digest",
        "send",
        "--date",
        "2026-08-21",
        "--quiet",
    ]
    kills = 0
    for stop_at in (15, 35):
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while sink.count() < stop_at and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        kills += 1
        assert sink.count() < subscribers
    finish = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finish.returncode == 0, finish.stderr
    assert "sent" in finish.stdout

    received = collections.defaultdict(list)
    for message in sink.messages():
        received[message["X-Sink-Rcpt"]].append(message["Message-ID"])
    assert sorted(received) == [f"user{i:02d}@example.org" for i in range(subscribers)]
    duplicates = {rcpt: ids for rcpt, ids in received.items() if len(ids) > 1}
    # At most the one message in flight at each kill arrives twice, with the same Message-ID.
    assert len(duplicates) <= kills
    assert all(len(ids) == 2 and ids[0] == ids[1] for ids in duplicates.values())
    log = papers_store.send_log(period="daily:2026-08-21")
    assert len(log) == subscribers and {row["status"] for row in log} == {"sent"}
    assert all(received[row["email"]][0] == row["message_id"] for row in log)


def test_papers_sent_are_forgotten_once_no_digest_can_reach_them(papers_store, sink, data_dir):
    settings = mail_settings(data_dir, sink.port)
    add_active(papers_store, "ada@example.org")
    run(papers_store, settings, D19)
    sent = {p.id for p in papers_store.papers_on(D19)}
    assert papers_store.sent_paper_ids(1, sent)
    assert papers_store.forget_sent_papers(D19) == 0  # still reachable: kept
    assert papers_store.forget_sent_papers(D20) == settings.mail_digest_size
    assert papers_store.sent_paper_ids(1, sent) == set()


def section_ids(text: str, heading: str) -> list[str]:
    """The paper ids of one section of the plain-text part, in order."""
    body = text.replace("\r\n", "\n").split(f"\n{heading}\n", 1)[1]
    body = body.split("\nTOP PAPERS\n")[0].split("\nTOPIC: ")[0].split("\n-- \n")[0]
    return [line.split("/abs/")[1].strip() for line in body.splitlines() if "/abs/" in line]


def test_a_subscriber_with_an_account_gets_a_for_you_section(papers_store, sink, data_dir):
    from paperboy.foryou import recommend_between
    from paperboy.store.library import Library

    settings = mail_settings(data_dir, sink.port, mail_topic_size=3)
    earlier = [p.id for p in papers_store.papers_between(D19, D20)][:6]
    ada = papers_store.create_user("ada", "h", email="Ada@Example.org")
    Library(papers_store).replace(ada.id, [(pid, "arxiv") for pid in earlier])
    assert Library(papers_store).verify_email(ada.id, "Ada@Example.org")  # the mailed link
    add_active(papers_store, "ada@example.org")
    add_active(papers_store, "bob@example.org")  # no account: no section

    report = run(papers_store, settings, D21)
    assert report.sent == 2
    by_rcpt = {m["X-Sink-Rcpt"]: m for m in sink.messages()}
    text = by_rcpt["ada@example.org"].get_body(("plain",)).get_content()
    html = by_rcpt["ada@example.org"].get_body(("html",)).get_content()
    assert "FOR YOU" in text and "For you" in html
    expected = recommend_between(
        papers_store, open_search(papers_store, settings), ada.id, (D21, D21)
    )
    mine = section_ids(text, "FOR YOU")
    assert mine == [p.id for p, _ in expected][:3]  # the page's ranking, in its order
    assert text.count("Why: close to") == len(mine) == 3 and "in your library" in html
    top = section_ids(text, "TOP PAPERS")
    assert top and not set(mine) & set(top)  # no paper twice in one digest
    assert set(mine) <= {p.id for p in papers_store.papers_on(D21)} and not set(mine) & set(earlier)
    assert "FOR YOU" not in by_rcpt["bob@example.org"].get_body(("plain",)).get_content()
    assert papers_store.sent_paper_ids(ada.id, mine) == set(mine)  # recorded as sent

    again = run(papers_store, settings, D21)  # exactly once: a rerun sends nothing
    assert again.sent == 0 and again.done_before == 2 and sink.count() == 2


def test_an_unverified_account_address_carries_no_for_you_picks(papers_store, sink, data_dir):
    """The attack: Mallory puts a subscriber's address on her own (older) account, whose
    library she chose. Zed (no account) gets none of her picks; Vic, whose own account proved
    the address (the link mailed to it), gets Vic's picks, never Mallory's."""
    from paperboy.foryou import recommend_between
    from paperboy.store.library import Library

    settings = mail_settings(data_dir, sink.port, mail_topic_size=3)
    lib = Library(papers_store)
    earlier = [p.id for p in papers_store.papers_between(D19, D20)]
    for victim in ("zed@example.org", "vic@example.org"):
        mallory = papers_store.create_user(f"mallory-{victim[:3]}", "h", email=victim)
        lib.replace(mallory.id, [(pid, "arxiv") for pid in earlier[:6]])
        assert not lib.verify_email(mallory.id, "mallory@example.org")  # not her address
        add_active(papers_store, victim)
    vic = papers_store.create_user("vic", "h", email="vic@example.org")
    lib.replace(vic.id, [(pid, "arxiv") for pid in earlier[-6:]])
    assert lib.verify_email(vic.id, "vic@example.org") and lib.verified_email(vic.id)
    assert lib.verified_email(mallory.id) is None
    assert lib.accounts_by_email(["VIC@example.org", "zed@example.org"]) == {
        "vic@example.org": vic.id
    }

    assert run(papers_store, settings, D21).sent == 2
    by_rcpt = {m["X-Sink-Rcpt"]: m.get_body(("plain",)).get_content() for m in sink.messages()}
    assert "FOR YOU" not in by_rcpt["zed@example.org"]
    assert "Why: close to" not in by_rcpt["zed@example.org"]
    search = open_search(papers_store, settings)
    theirs = [p.id for p, _ in recommend_between(papers_store, search, vic.id, (D21, D21))]
    hers = [p.id for p, _ in recommend_between(papers_store, search, mallory.id, (D21, D21))]
    mine = section_ids(by_rcpt["vic@example.org"], "FOR YOU")
    assert len(mine) == 3 and mine == theirs[:3]
    assert theirs[:3] != hers[:3]  # the two libraries rank differently: the test can tell
