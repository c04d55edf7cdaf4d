"""docs/cli.md is the commands' own --help: a command or option missing there fails here."""

from __future__ import annotations

from pathlib import Path

import click

from paperboy.cli import main
from paperboy.cli.reference import render

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
REGENERATE = "run `python -m paperboy.cli.reference --write`"


def _commands(command: click.Command, path: tuple[str, ...] = ("paperboy",)):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_command_and_option_is_in_the_reference():
    doc = DOC.read_text()
    for path, command in _commands(main):
        heading = f"## `{' '.join(path)}`"
        assert heading in doc, f"{' '.join(path)} is not in docs/cli.md: {REGENERATE}"
        section = doc.split(heading, 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("-"):
                    assert flag in section, (
                        f"{' '.join(path)} {flag} is not in docs/cli.md: {REGENERATE}"
                    )


def test_the_reference_is_what_help_says():
    assert DOC.read_text() == render(main), f"docs/cli.md differs from --help: {REGENERATE}"
