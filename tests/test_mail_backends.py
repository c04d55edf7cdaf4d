"""Mail without a relay (mail/backends.py): the outbox folder, the console, the choice by
mail_backend, and the CLI in the demo's data directory (demo_dir.py)."""

import re
import subprocess
import sys
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from click.testing import CliRunner

from paperboy.cli import main
from paperboy.config import ConfigError
from paperboy.demo_dir import DEMO_DIR, mark_demo
from paperboy.ingest import import_file
from paperboy.mail.backends import (
    ConsolePostman,
    OutboxPostman,
    backend_of,
    outbox_folder,
    postman_for,
    read_outbox,
    readable,
)
from paperboy.mail.send import Postman
from paperboy.store import open_store
from tests.environment import subprocess_env
from tests.mail_fixtures import MAIL_PAPERS, mail_settings

SUBJECT = "Les résumés du jour — 3 papers"
BODY = "Grüße: naïve café papers\n" + "a long line " * 20 + "\n"


def encoded_message() -> bytes:
    """A message as paperboy sends it: RFC 2047 subject, quoted-printable UTF-8 body."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "paperboy <digest@papers.example.org>"
    msg["To"] = "ada@example.org"
    msg["Subject"] = SUBJECT
    msg["List-Unsubscribe"] = "<https://papers.example.org/subscriptions/unsubscribe?token=x>"
    msg.set_content(BODY, cte="quoted-printable")
    return msg.as_bytes()


def test_the_outbox_keeps_each_message_whole_and_reads_it_decoded(tmp_path):
    settings = mail_settings(tmp_path, mail_backend="outbox")
    raw = encoded_message()
    assert SUBJECT.encode() not in raw  # the wire form is encoded
    with postman_for(settings) as postman:
        assert isinstance(postman, OutboxPostman)
        postman.send("ada@example.org", raw)
        postman.send("bob@example.org", raw)
        assert postman.sent == 2
    files = sorted(outbox_folder(settings).iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary file left behind
    newest, oldest = read_outbox(settings)
    assert (newest.recipient, oldest.recipient) == ("bob@example.org", "ada@example.org")
    assert newest.headers["Subject"] == SUBJECT
    assert newest.text == BODY


def test_readable_is_what_a_person_reads(tmp_path):
    text = readable(encoded_message())
    assert f"Subject: {SUBJECT}" in text and BODY in text
    assert "=?utf-8?" not in text and "=C3" not in text and "Content-Transfer" not in text


def test_the_console_prints_the_decoded_message(tmp_path, capsys):
    settings = mail_settings(tmp_path, mail_backend="console")
    with postman_for(settings) as postman:
        assert isinstance(postman, ConsolePostman)
        postman.send("ada@example.org", encoded_message())
    out = capsys.readouterr().out
    assert "mail to ada@example.org" in out and SUBJECT in out and BODY in out


def test_auto_means_the_outbox_only_in_the_demo_data_dir(tmp_path):
    normal = mail_settings(tmp_path / "prod")
    assert backend_of(normal) == "smtp" and isinstance(postman_for(normal), Postman)
    mark_demo(tmp_path / "demo")
    assert backend_of(mail_settings(tmp_path / "demo")) == "outbox"
    assert backend_of(mail_settings(tmp_path / "demo", mail_backend="smtp")) == "smtp"


def test_an_unknown_backend_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="mail_backend.*smtp.*outbox.*'pigeon'"):
        postman_for(mail_settings(tmp_path, mail_backend="pigeon"))


@pytest.fixture
def demo_cli(tmp_path, clean_env, monkeypatch):
    """The CLI on a demo data dir holding the mail papers; mail goes to its outbox."""
    data_dir = tmp_path / DEMO_DIR
    mark_demo(data_dir)
    settings = mail_settings(data_dir)
    store = open_store(settings)
    import_file(store, MAIL_PAPERS, settings, show_progress=False)
    monkeypatch.setenv("PAPERBOY_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("PAPERBOY_SMTP_PORT", "1")  # were SMTP used, it would fail

    def invoke(*args):
        return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])

    invoke.settings = settings
    return invoke


def test_the_readme_mail_lines_work_in_the_demo_without_a_relay(demo_cli):
    result = demo_cli("subscribe", "ada@example.org", "--topic", '"speculative decoding"')
    assert result.exit_code == 0, result.output
    assert "confirmation mail sent" in result.output and "/_outbox" in result.output
    (confirm,) = read_outbox(demo_cli.settings)
    assert confirm.recipient == "ada@example.org"
    link = re.search(r"/subscriptions/confirm\?token=(\S+)", confirm.text).group(1)
    from paperboy.mail.subscriptions import Subscriptions

    Subscriptions(open_store(demo_cli.settings), demo_cli.settings).confirm(link)
    dry = demo_cli("digest", "send", "--dry-run", "--to", "ada@example.org", "--date", "2026-08-22")
    assert dry.exit_code == 0, dry.output
    assert "Subject: " in dry.output and "To: ada@example.org" in dry.output
    assert "=?utf-8?" not in dry.output and "Content-Transfer-Encoding" not in dry.output
    assert len(read_outbox(demo_cli.settings)) == 1  # a dry run sends nothing
    sent = demo_cli("digest", "send", "--date", "2026-08-21")
    assert "sent 1" in sent.output, sent.output
    again = demo_cli("digest", "send", "--date", "2026-08-21")
    assert "sent 0" in again.output  # exactly once, whatever the backend
    assert len(read_outbox(demo_cli.settings)) == 2


def paperboy_in(cwd, *args, **env):
    """`paperboy ARGS` as a person runs it from `cwd`, with no PAPERBOY_* in the environment."""
    run_env = subprocess_env() | {"HOME": str(cwd), "XDG_DATA_HOME": str(cwd / "xdg")} | env
    return subprocess.run(
        [sys.executable, "-m", "paperboy", *args],
        cwd=cwd,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_run_from_the_clone_reads_the_demo_store_and_says_so(tmp_path, fixtures):
    clone = tmp_path / "clone"
    clone.mkdir()
    empty = paperboy_in(clone, "papers")
    assert empty.returncode == 1 and "no papers yet" in empty.stderr
    data_dir = clone / DEMO_DIR
    hf_day = str(fixtures / "hf_daily_papers_2026-08-21.json")
    paperboy_in(clone, "import", "--quiet", hf_day, PAPERBOY_DATA_DIR=str(data_dir))
    unmarked = paperboy_in(clone, "papers")
    assert unmarked.returncode == 1  # a folder of that name that `paperboy demo` did not make
    mark_demo(data_dir)
    found = paperboy_in(clone, "papers")
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("2026-08-21: 17 papers")
    assert "using the demo's store in .demo-data/" in found.stderr
    elsewhere = paperboy_in(clone, "papers", PAPERBOY_DATA_DIR=str(tmp_path / "other"))
    assert elsewhere.returncode == 1 and "demo" not in elsewhere.stderr.split("error:")[0]
