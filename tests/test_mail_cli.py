"""The mail commands, run as a user would (click's runner, a real store and SMTP server)."""

import email
import email.policy
import re

import pytest
from click.testing import CliRunner

from paperboy.cli import main
from paperboy.ingest import import_file
from paperboy.store import open_store
from tests.mail_fixtures import MAIL_PAPERS, mail_settings


@pytest.fixture
def cli(smtp_sink, data_dir, monkeypatch):
    sink = smtp_sink()
    settings = mail_settings(data_dir, sink.port)
    store = open_store(settings)
    import_file(store, MAIL_PAPERS, settings, show_progress=False)
    for name, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "PUBLIC_URL": settings.public_url,
        "MAIL_FROM": settings.mail_from,
        "SECRET_KEY": settings.secret_key,
    }.items():
        monkeypatch.setenv(f"PAPERBOY_{name}", value)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, ["--data-dir", str(data_dir), *args])

    invoke.sink, invoke.store, invoke.settings = sink, store, settings
    return invoke


def confirm_through_link(cli) -> None:
    from paperboy.mail.subscriptions import Subscriptions

    text = cli.sink.messages()[-1].get_body(("plain",)).get_content()
    token = re.search(r"/subscriptions/confirm\?token=(\S+)", text).group(1)
    Subscriptions(cli.store, cli.settings).confirm(token)


def test_subscribe_sends_a_confirmation_and_nothing_else(cli):
    result = cli(
        "subscribe",
        "Ada@Example.org",
        "--topic",
        "agent",
        "--topic",
        "diffusion -video",
        "--frequency",
        "weekly",
        "--name",
        "Ada",
    )
    assert result.exit_code == 0, result.output
    assert "confirmation mail sent" in result.output
    assert cli.sink.messages()[0]["Subject"] == "Confirm your paperboy subscription"
    listed = cli("subscribers")
    assert "1 pending" in listed.output and "agent; diffusion -video" in listed.output
    sent = cli("digest", "send", "--date", "2026-08-24")
    assert "sent 0" in sent.output and cli.sink.count() == 1


@pytest.mark.parametrize(
    "args, words",
    [
        (["subscribe", "ada@example"], "email: "),
        (["subscribe", "ada@example.org", "--name", "Ada\r\nBcc: x@y.org"], "name: "),
        (["subscribe", "ada@example.org", "--topic", "x" * 201], "topics: "),
    ],
)
def test_bad_input_exits_1_with_one_clear_line(cli, args, words):
    result = cli(*args)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {words}") and "Traceback" not in result.output
    assert cli.store.count_subscribers() == {}


def test_digest_send_status_and_rerun(cli):
    cli("subscribe", "ada@example.org", "--topic", "agent")
    confirm_through_link(cli)
    dry = cli("digest", "send", "--dry-run", "--date", "2026-08-21")
    assert "would send 1" in dry.output and cli.sink.count() == 1
    sent = cli("digest", "send", "--date", "2026-08-21", "--quiet")
    assert sent.exit_code == 0 and "sent 1" in sent.output
    again = cli("digest", "send", "--date", "2026-08-21")
    assert "sent 0" in again.output and "already done 1" in again.output
    status = cli("digest", "status")
    assert "daily:2026-08-21" in status.output and "sent      1" in status.output
    detail = cli("digest", "status", "--period", "daily:2026-08-21")
    assert "ada@example.org" in detail.output and "papers" in detail.output


def test_dry_run_to_one_address_prints_the_message(cli):
    cli("subscribe", "ada@example.org")
    confirm_through_link(cli)
    result = cli("digest", "send", "--dry-run", "--to", "ada@example.org", "--date", "2026-08-22")
    assert result.exit_code == 0
    raw = result.output.split("digests for")[0].encode()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "ada@example.org" and message["List-Unsubscribe"]
    assert cli.sink.count() == 1  # only the confirmation
    missing = cli("digest", "send", "--to", "bob@example.org")
    assert missing.exit_code == 1 and "not an active subscriber" in missing.output


def test_smtp_down_exits_2_and_says_what_happened(cli, monkeypatch):
    cli("subscribe", "ada@example.org")
    confirm_through_link(cli)
    cli.sink.stop()
    monkeypatch.setenv("PAPERBOY_MAIL_RETRIES", "1")
    result = cli("digest", "send", "--date", "2026-08-21")
    assert result.exit_code == 2
    assert "stopped early" in result.output and "next run sends the rest" in result.output


def test_unsubscribe_and_forget(cli):
    cli("subscribe", "ada@example.org")
    assert "unsubscribed" in cli("unsubscribe", "ada@example.org").output
    assert cli.store.subscriber_by_email("ada@example.org").status == "unsubscribed"
    assert "deleted" in cli("unsubscribe", "--forget", "ada@example.org").output
    assert cli.store.subscriber_by_email("ada@example.org") is None
    assert cli("unsubscribe", "ada@example.org").exit_code == 1


def test_misconfigured_security_is_one_clear_line(cli, monkeypatch):
    monkeypatch.setenv("PAPERBOY_SMTP_SECURITY", "ssl")
    result = cli("subscribe", "ada@example.org")
    assert result.exit_code == 1 and "smtp_security" in result.output
