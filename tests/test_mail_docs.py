"""Every mail setting is documented, with its real default, in docs/configuration.md."""

from dataclasses import fields
from pathlib import Path

import pytest

from paperboy.config import Settings

DOC = Path(__file__).parent.parent / "docs" / "configuration.md"
MAIL_SETTINGS = [
    f
    for f in fields(Settings)
    if f.name.startswith(("mail_", "smtp_")) or f.name in ("public_url", "secret_key")
]


def documented_rows() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def shown(value) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`" if value != "" else "empty"


def test_there_are_mail_settings():
    assert len(MAIL_SETTINGS) > 20


@pytest.mark.parametrize("setting", MAIL_SETTINGS, ids=lambda f: f.name)
def test_mail_setting_is_documented_with_its_default(setting):
    rows = documented_rows()
    assert setting.name in rows, f"{setting.name} is missing from {DOC}"
    assert rows[setting.name] == shown(getattr(Settings(), setting.name))
