"""Mail test fixtures: a real store on a temporary SQLite file, and a real SMTP server process.

`smtp_sink` starts tests/smtp_sink.py (aiosmtpd) as a separate process on a free loopback
port; it stores each message it accepts as a file, which `messages()` parses back with the
standard library's parser.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from pathlib import Path

import pytest

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.store import open_store
from tests.environment import reset

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
MAIL_PAPERS = FIXTURES / "mail" / "hf_daily_2026-08-19_21.jsonl"


class SMTPSink:
    """A running tests/smtp_sink.py process and the folder it writes messages to."""

    def __init__(self, folder: Path, *options: str):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, str(TESTS / "smtp_sink.py"), "--dir", str(folder), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.process.kill()
            raise RuntimeError(
                f"the SMTP sink did not start: {line!r} {self.process.stderr.read()}"
            )
        self.port = int(line.split()[1])

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.suffix == ".eml")

    def count(self) -> int:
        return len(self.files())

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in self.files()
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture
def smtp_sink(tmp_path):
    """Factory: `smtp_sink("--delay", "0.1")` starts a server; all are stopped afterwards."""
    started: list[SMTPSink] = []

    def start(*options: str) -> SMTPSink:
        sink = SMTPSink(tmp_path / f"mailbox{len(started)}", *options)
        started.append(sink)
        return sink

    yield start
    for sink in started:
        sink.stop()


def mail_settings(data_dir: Path, port: int = 1, **overrides) -> Settings:
    """Settings for mail tests: the loopback server, fast retries, a fixed public URL."""
    values = dict(
        data_dir=data_dir,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout=10.0,
        public_url="https://papers.example.org",
        mail_from="digest@papers.example.org",
        mail_from_name="paperboy",
        mail_retry_backoff=0.01,
        mail_retries=3,
        mail_scheduler=False,
        secret_key="test-secret-key-0123456789",
        search_model="static",
        search_passages=False,
    )
    values.update(overrides)
    return Settings()._with(values)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def papers_store(data_dir, database_url):
    """A store holding three real feed days (2026-08-19 .. 21), on each store backend."""
    settings = mail_settings(data_dir, database_url=database_url)
    store = open_store(settings)
    import_file(store, MAIL_PAPERS, settings, show_progress=False)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def _no_paperboy_env(monkeypatch):
    """Tests see only the settings they give, never the developer's PAPERBOY_* environment."""
    reset(monkeypatch)
