"""Reply notices left queued by a process that stopped before sending them go out without a
new reply: `paperboy digest replies`, `paperboy digest send`, `paperboy sync`, the digest
scheduler's thread and the start of `paperboy serve`; each exactly once, through a real SMTP
server process (tests/smtp_sink.py), on both store backends."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from paperboy.cli import main
from paperboy.mail.replies import send_queued_replies
from paperboy.mail.schedule import DigestScheduler
from paperboy.store.discussions import Discussions
from paperboy.store.replies import Replies
from tests.environment import subprocess_env
from tests.mail_fixtures import mail_settings
from tests.replay import FIXTURES, ReplayServer, Reply
from tests.test_mail_schedule import at
from tests.web.serving import free_port, start_serve, stop, wait_until_up


@pytest.fixture
def sink(smtp_sink):
    return smtp_sink()


@pytest.fixture
def settings(data_dir, sink, database_url):
    return mail_settings(data_dir, sink.port, database_url=database_url, mail_backend="smtp")


class Thread:
    """Ada's comment on a stored paper, with ada opted in to reply mail; bob replies."""

    def __init__(self, store):
        self.store = store
        self.paper = next(store.iter_papers()).id
        self.ada = store.create_user("ada", "h", email="ada@example.org")
        self.bob = store.create_user("bob", "h", email="bob@example.org")
        assert Replies(store).set_address(self.ada.id, "ada@example.org")
        self.first = Discussions(store).add(self.paper, self.ada.id, "A question").id

    def reply_unsent(self, body: str = "An answer") -> int:
        """A reply stored with its notice queued, as a server leaves it when it stops before
        its background task runs: nothing sends it."""
        return Discussions(self.store).add(self.paper, self.bob.id, body, parent_id=self.first).id


def notices(sink) -> list[str]:
    return sorted(
        m.get_body(("plain",)).get_content().split("> ", 1)[1].splitlines()[0]
        for m in sink.messages()
        if "replied" in str(m["Subject"])
    )


def cli_env(settings) -> dict[str, str]:
    values = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(settings.smtp_port),
        "PUBLIC_URL": settings.public_url,
        "MAIL_FROM": settings.mail_from,
        "SECRET_KEY": settings.secret_key,
        "MAIL_BACKEND": "smtp",
        "DATABASE_URL": settings.database_url,
    }
    return {f"PAPERBOY_{k}": v for k, v in values.items()}


def test_digest_replies_sends_what_a_stopped_server_left_queued_once(
    papers_store, settings, sink, data_dir
):
    thread = Thread(papers_store)
    thread.reply_unsent("First")
    thread.reply_unsent("Second")
    assert Replies(papers_store).counts() == {"queued": 2} and notices(sink) == []
    runner = CliRunner(env=cli_env(settings))
    ran = runner.invoke(main, ["--data-dir", str(data_dir), "digest", "replies"])
    assert ran.exit_code == 0, ran.output
    assert "reply notices: 2 sent" in ran.output
    assert notices(sink) == ["First", "Second"]
    again = runner.invoke(main, ["--data-dir", str(data_dir), "digest", "replies"])
    assert again.exit_code == 0 and "reply notices: 0 sent" in again.output
    quiet = runner.invoke(main, ["--data-dir", str(data_dir), "digest", "replies", "--quiet"])
    assert quiet.exit_code == 0 and "reply notices" not in quiet.output
    # `digest send` (what cron runs) sends the notices that are due as well, once.
    thread.reply_unsent("Third")
    sent = runner.invoke(main, ["--data-dir", str(data_dir), "digest", "send", "--quiet"])
    assert sent.exit_code == 0, sent.output
    assert "reply notices: 1 sent" in sent.output
    runner.invoke(main, ["--data-dir", str(data_dir), "digest", "send", "--quiet"])
    assert notices(sink) == ["First", "Second", "Third"]
    assert Replies(papers_store).counts() == {"sent": 3}


def test_more_than_one_batch_is_drained_in_one_call(papers_store, settings, sink):
    thread = Thread(papers_store)
    for n in range(5):
        thread.reply_unsent(f"Answer {n}")
    report = send_queued_replies(papers_store, settings, batch=2)
    assert report.sent == 5 and len(notices(sink)) == 5
    assert send_queued_replies(papers_store, settings, batch=2).handled == 0
    assert len(notices(sink)) == 5


def test_the_scheduler_thread_sends_left_notices_at_its_start_and_later_ones(
    papers_store, settings, sink
):
    thread = Thread(papers_store)
    thread.reply_unsent("Left behind")
    runs = []
    # 05:00: hours before the digests' 07:00, so the thread only looks at the reply queue.
    scheduler = DigestScheduler(
        settings, run=lambda: runs.append(1), clock=lambda: at(5), replies_every=0.2
    )
    scheduler.start()
    try:
        wait_for(lambda: notices(sink) == ["Left behind"])
        thread.reply_unsent("Queued while it runs")
        wait_for(lambda: len(notices(sink)) == 2)
        time.sleep(0.6)  # a few more looks at the queue: nothing goes twice
    finally:
        scheduler.stop()
    assert notices(sink) == ["Left behind", "Queued while it runs"] and runs == []
    assert Replies(papers_store).counts() == {"sent": 2}


@pytest.mark.slow
def test_paperboy_serve_sends_them_when_it_starts(papers_store, settings, sink, tmp_path):
    thread = Thread(papers_store)
    thread.reply_unsent("Before the restart")
    port = free_port()
    env = subprocess_env() | cli_env(settings)
    log = tmp_path / "serve.log"
    proc = start_serve(settings.data_dir, port, log, env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", proc, log, timeout=60)
        wait_for(lambda: notices(sink) == ["Before the restart"], timeout=30)
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        stop(proc)
    assert "reply notices: 1 sent" in log.read_text()
    assert Replies(papers_store).counts() == {"sent": 1}


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_paperboy_sync_sends_them_after_its_sources(papers_store, settings, sink, tmp_path):
    thread = Thread(papers_store)
    thread.reply_unsent("Before the sync")
    items = (FIXTURES / "hf_api" / "2024-05-27.json").read_text(encoding="utf-8")
    with ReplayServer() as upstream:
        upstream.route(
            "/api/daily_papers",
            Reply(200, items, content_type="application/json"),
            {"date": "2024-05-27"},
        )
        env = subprocess_env() | cli_env(settings)
        env |= {
            "PAPERBOY_DATA_DIR": str(settings.data_dir),
            "PAPERBOY_HF_API_URL": upstream.url("/api"),
            "PAPERBOY_SYNC_SOURCES": "hf",
            "PAPERBOY_HTTP_MIN_INTERVAL": "0",
        }
        command = [sys.executable, "-m", "paperboy", "sync", "--since", "2024-05-27"]
        command += ["--until", "2024-05-27", "--quiet"]
        ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "sync hf: added 13" in ran.stdout and "reply notices: 1 sent" in ran.stdout
    assert again.returncode == 0 and "reply notices" not in again.stdout  # nothing was due
    assert notices(sink) == ["Before the sync"]
    assert Replies(papers_store).counts() == {"sent": 1}
