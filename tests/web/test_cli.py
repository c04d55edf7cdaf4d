"""`paperboy user ...`: accounts and the admin role from the command line."""

from click.testing import CliRunner

from paperboy.cli import main
from paperboy.store.sqlite import SQLiteStore
from paperboy.web.auth import token_hash


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
