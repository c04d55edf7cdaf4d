"""`paperboy user ...`: accounts and the admin role from the command line."""

import subprocess
import sys

from click.testing import CliRunner

from paperboy.cli import main
from paperboy.store.sqlite import SQLiteStore
from paperboy.web.auth import token_hash, verify_password
from tests.environment import subprocess_env


def run(tmp_path, *args, input=None):
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path), *args], input=input)


def test_create_admin_list_token(tmp_path):
    made = run(tmp_path, "user", "create", "ada", "--admin", input="long secret\nlong secret\n")
    assert made.exit_code == 0, made.output
    assert "created ada (admin)" in made.output
    assert "no longer an admin" in run(tmp_path, "user", "admin", "ada", "--revoke").output
    assert "now an admin" in run(tmp_path, "user", "admin", "ada").output
    assert "admin" in run(tmp_path, "user", "list").output
    token = run(tmp_path, "user", "token", "ada").output.strip()
    store = SQLiteStore(tmp_path / "paperboy.sqlite3")
    assert store.api_token_user(token_hash(token)).name == "ada"


def test_clear_errors(tmp_path):
    short = run(tmp_path, "user", "create", "bob", "--password", "short")
    assert short.exit_code == 1 and "at least 8" in short.output
    run(tmp_path, "user", "create", "bob", "--password", "long enough")
    again = run(tmp_path, "user", "create", "BOB", "--password", "long enough")
    assert again.exit_code == 1 and "taken" in again.output
    missing = run(tmp_path, "user", "admin", "nobody")
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output


def test_create_reads_a_piped_password_without_a_warning(tmp_path):
    # A new session has no terminal to fall back on, as under cron, CI or `make`: the password
    # comes from the pipe, and nothing but the result is printed.
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "--data-dir", str(tmp_path), "user", "create", "ada"],
        input="piped secret\n",
        capture_output=True,
        text=True,
        env=subprocess_env(),
        start_new_session=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "created ada\n"
    assert done.stderr == ""
    _, stored_hash = SQLiteStore(tmp_path / "paperboy.sqlite3").credentials("ada")
    assert verify_password(stored_hash, "piped secret")
    empty = subprocess.run(
        [sys.executable, "-m", "paperboy", "--data-dir", str(tmp_path), "user", "create", "bob"],
        input="",
        capture_output=True,
        text=True,
        env=subprocess_env(),
        start_new_session=True,
        timeout=120,
        check=False,
    )
    assert empty.returncode == 1 and "no password" in empty.stderr
    assert "Traceback" not in empty.stderr


def test_create_help_says_a_password_may_come_from_a_pipe():
    result = CliRunner().invoke(main, ["user", "create", "--help"])
    assert "standard input" in result.output and "pipe" in result.output
