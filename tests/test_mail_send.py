"""SMTP sending against a real server process: success, retries, refusals, login and TLS."""

import shutil
import socket
import subprocess

import pytest

from paperboy.config import ConfigError
from paperboy.mail.compose import build_message
from paperboy.mail.send import Deferred, Postman, Rejected, SMTPUnavailable
from tests.mail_fixtures import mail_settings


def message(to: str = "ada@example.org") -> bytes:
    return build_message(
        [("From", "digest@papers.example.org"), ("To", to), ("Subject", "test")],
        "hello",
        "<p>hello</p>",
    )


class Pauses(list):
    """Records the pauses between retries instead of sleeping through them."""

    def __call__(self, seconds):
        self.append(seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_connection_carries_many_messages(smtp_sink, tmp_path):
    sink = smtp_sink()
    with Postman(mail_settings(tmp_path, sink.port)) as postman:
        for i in range(5):
            postman.send(f"user{i}@example.org", message(f"user{i}@example.org"))
    received = sink.messages()
    assert sorted(m["X-Sink-Rcpt"] for m in received) == [f"user{i}@example.org" for i in range(5)]
    assert all(m["X-Sink-From"] == "digest@papers.example.org" for m in received)


def test_greylisting_is_retried_with_backoff_then_delivered(smtp_sink, tmp_path):
    sink = smtp_sink("--tempfail", "grey", "--tempfail-times", "2")
    pauses = Pauses()
    settings = mail_settings(tmp_path, sink.port, mail_retries=3, mail_retry_backoff=0.5)
    with Postman(settings, sleep=pauses) as postman:
        postman.send("grey@example.org", message())
    assert pauses == [0.5, 1.0]
    assert sink.count() == 1


def test_transient_refusal_that_outlasts_the_retries_is_deferred(smtp_sink, tmp_path):
    sink = smtp_sink("--tempfail", "grey", "--tempfail-times", "5")
    with Postman(mail_settings(tmp_path, sink.port, mail_retries=2), sleep=Pauses()) as postman:
        with pytest.raises(Deferred) as caught:
            postman.send("grey@example.org", message())
        assert caught.value.code == 451
        postman.send("fine@example.org", message())  # the connection is still usable
    assert sink.count() == 1


def test_data_refused_temporarily_is_retried(smtp_sink, tmp_path):
    sink = smtp_sink("--data-tempfail", "1")
    pauses = Pauses()
    with Postman(mail_settings(tmp_path, sink.port), sleep=pauses) as postman:
        postman.send("ada@example.org", message())
    assert len(pauses) == 1 and sink.count() == 1


def test_permanent_refusal_is_rejected_at_once(smtp_sink, tmp_path):
    sink = smtp_sink("--reject", "gone")
    pauses = Pauses()
    with Postman(mail_settings(tmp_path, sink.port), sleep=pauses) as postman:
        with pytest.raises(Rejected) as caught:
            postman.send("gone@example.org", message())
    assert caught.value.code == 550 and "No such user" in str(caught.value)
    assert pauses == [] and sink.count() == 0


def test_unreachable_server_is_retried_then_unavailable(tmp_path):
    pauses = Pauses()
    settings = mail_settings(tmp_path, free_port(), mail_retries=3, mail_retry_backoff=1.0)
    with Postman(settings, sleep=pauses) as postman:
        with pytest.raises(SMTPUnavailable, match="after 3 tries"):
            postman.send("ada@example.org", message())
    assert pauses == [1.0, 2.0]


def test_login(smtp_sink, tmp_path):
    sink = smtp_sink("--auth", "paperboy:s3cret")
    good = mail_settings(tmp_path, sink.port, smtp_username="paperboy", smtp_password="s3cret")
    with Postman(good) as postman:
        postman.send("ada@example.org", message())
    assert sink.count() == 1
    bad = mail_settings(tmp_path, sink.port, smtp_username="paperboy", smtp_password="nope")
    with Postman(bad, sleep=Pauses()) as postman:
        with pytest.raises(SMTPUnavailable, match="refuses the login of 'paperboy'"):
            postman.send("ada@example.org", message())


def test_settings_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="smtp_security"):
        Postman(mail_settings(tmp_path, smtp_security="ssl"))
    with pytest.raises(ConfigError, match="mail_from"):
        Postman(mail_settings(tmp_path, mail_from="a@b.org\r\nBcc: c@d.org"))


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls(smtp_sink, tmp_path, certificate, mode):
    cert, key = certificate
    sink = smtp_sink("--tls-cert", str(cert), "--tls-key", str(key), "--mode", mode)
    settings = mail_settings(tmp_path, sink.port, smtp_security=mode, smtp_ca_file=str(cert))
    with Postman(settings) as postman:
        postman.send("ada@example.org", message())
    assert sink.count() == 1
    # Without trusting the certificate, TLS fails with advice instead of sending in clear.
    untrusted = mail_settings(tmp_path, sink.port, smtp_security=mode)
    with Postman(untrusted, sleep=Pauses()) as postman:
        with pytest.raises(SMTPUnavailable, match="smtp_ca_file"):
            postman.send("ada@example.org", message())
    assert sink.count() == 1


def test_starttls_required_by_server_but_not_configured(smtp_sink, tmp_path, certificate):
    cert, key = certificate
    sink = smtp_sink("--tls-cert", str(cert), "--tls-key", str(key), "--mode", "starttls")
    with Postman(mail_settings(tmp_path, sink.port), sleep=Pauses()) as postman:
        with pytest.raises((SMTPUnavailable, Rejected)):
            postman.send("ada@example.org", message())
    assert sink.count() == 0
