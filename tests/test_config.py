"""Settings: defaults, config file, env vars, clear errors, and every setting documented."""

import re
from dataclasses import fields
from pathlib import Path

import pytest

from paperboy.config import ConfigError, Settings

DOCS = Path(__file__).parents[1] / "docs" / "configuration.md"


def test_priority_is_defaults_then_file_then_env_then_overrides(tmp_path, monkeypatch):
    config = tmp_path / "paperboy.toml"
    config.write_text('[paperboy]\nport = 9000\nhttp_timeout = 5\narxiv_categories = ["cs.CL"]\n')
    monkeypatch.setenv("PAPERBOY_HTTP_TIMEOUT", "7.5")
    settings = Settings.load(config, data_dir=str(tmp_path))
    assert settings.port == 9000
    assert settings.http_timeout == 7.5
    assert settings.arxiv_categories == ("cs.CL",)
    assert settings.data_dir == tmp_path
    assert Settings.load().http_min_interval == 3.0


def test_lists_from_env_are_comma_separated(monkeypatch):
    monkeypatch.setenv("PAPERBOY_SYNC_SOURCES", "hf, rss")
    assert Settings.load().sync_sources == ("hf", "rss")


def test_sqlite_path_follows_the_database_url(tmp_path):
    assert Settings.load(data_dir=tmp_path).sqlite_path == tmp_path / "paperboy.sqlite3"
    url = f"sqlite:///{tmp_path}/other.db"
    assert Settings.load(database_url=url).sqlite_path == tmp_path / "other.db"


@pytest.mark.parametrize(
    "content, message",
    [
        ("port = 'eighty'", "setting 'port' expects int, got 'eighty'"),
        ("colour = 'blue'", "unknown setting 'colour'"),
        ("port = ", "is not valid TOML"),
    ],
)
def test_bad_config_files_are_clear_errors(tmp_path, content, message):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.load(config)


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(tmp_path / "nope.toml")


def test_every_setting_is_documented():
    # A setting is documented by a "### `name`" heading or a "| `name` | default | what |" row.
    documented = set(re.findall(r"`([a-z_]+)`", "\n".join(
        line for line in DOCS.read_text().splitlines() if line.startswith(("### ", "| `")))))
    missing = {f.name for f in fields(Settings)} - documented
    assert not missing, f"document these settings in docs/configuration.md: {sorted(missing)}"


@pytest.mark.parametrize("value", ["auto", "0", "0.35", "1"])
def test_the_keyword_weight_is_auto_or_a_share(clean_env, value):
    assert Settings.load(search_keyword_weight=value).search_keyword_weight == value


@pytest.mark.parametrize("value", ["1.5", "-0.1", "half", ""])
def test_a_bad_keyword_weight_is_a_clear_error(clean_env, value):
    with pytest.raises(ConfigError, match="search_keyword_weight"):
        Settings.load(search_keyword_weight=value)
