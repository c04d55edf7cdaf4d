"""Settings: defaults, config file, env vars, clear errors, and every setting documented."""

import re
from dataclasses import fields
from pathlib import Path

import pytest

from paperboy.config import AREAS, ConfigError, Settings, flat_name

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
    documented = set(
        re.findall(
            r"`([a-z_]+)`",
            "\n".join(
                line for line in DOCS.read_text().splitlines() if line.startswith(("### ", "| `"))
            ),
        )
    )
    missing = {f.name for f in fields(Settings)} - documented
    assert not missing, f"document these settings in docs/configuration.md: {sorted(missing)}"


@pytest.mark.parametrize("value", ["auto", "0", "0.35", "1"])
def test_the_keyword_weight_is_auto_or_a_share(clean_env, value):
    assert Settings.load(search_keyword_weight=value).search_keyword_weight == value


@pytest.mark.parametrize("value", ["1.5", "-0.1", "half", ""])
def test_a_bad_keyword_weight_is_a_clear_error(clean_env, value):
    with pytest.raises(ConfigError, match="search_keyword_weight"):
        Settings.load(search_keyword_weight=value)


AREA_SECTIONS = {
    "store": "Store",
    "sources": "Sources",
    "http": "HTTP",
    "web": "Web",
    "search": "Search",
    "mail": "Mail",
}


def _section(title: str) -> str:
    return DOCS.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_setting_belongs_to_exactly_one_area():
    owners: dict[str, list[str]] = {}
    for area, kind in AREAS.items():
        for f in fields(kind):
            owners.setdefault(flat_name(area, f.name), []).append(area)
    flat = {f.name for f in fields(Settings)}
    assert set(owners) == flat, f"settings in no area: {sorted(flat - set(owners))}"
    assert all(len(areas) == 1 for areas in owners.values()), owners


def test_every_setting_is_documented_under_its_area():
    for area, kind in AREAS.items():
        section = _section(AREA_SECTIONS[area])
        missing = [
            flat_name(area, f.name)
            for f in fields(kind)
            if f"`{flat_name(area, f.name)}`" not in section
        ]
        assert not missing, f"document these under '## {AREA_SECTIONS[area]}': {missing}"


def test_the_areas_read_the_flat_settings(clean_env, tmp_path):
    settings = Settings.load(
        data_dir=tmp_path,
        http_timeout="7.5",
        port="9001",
        search_threads="3",
        mail_digest_size="4",
        user_agent="me",
    )
    assert settings.http.timeout == 7.5 and settings.http.user_agent == "me"
    assert settings.web.port == 9001 and settings.search.threads == 3
    assert settings.mail.digest_size == 4 and settings.store.data_dir == tmp_path
    assert settings.sources.arxiv_categories == settings.arxiv_categories


def test_the_test_seams_are_not_settings(clean_env, tmp_path, monkeypatch):
    config = tmp_path / "seams.toml"
    config.write_text("import_pause = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'import_pause'"):
        Settings.load(config)
    assert Settings.load().import_pause == 0.0
    monkeypatch.setenv("PAPERBOY_IMPORT_PAUSE", "0.25")
    monkeypatch.setenv("PAPERBOY_MAIL_SEND_PAUSE", "soon")
    assert Settings.load().import_pause == 0.25
    with pytest.raises(ConfigError, match="PAPERBOY_MAIL_SEND_PAUSE expects a number"):
        _ = Settings.load().mail_send_pause


def test_settings_survive_the_handoff_to_serve_workers(clean_env, tmp_path):
    settings = Settings.load(
        data_dir=tmp_path, sync_sources="hf,rss", search_passages="false", http_timeout="7.5"
    )
    again = Settings.from_json(settings.to_json())
    assert again == settings and again.sync_sources == ("hf", "rss")
