"""git's config from its environment is read as git reads it."""

from __future__ import annotations

import os
import subprocess

import pytest

from agent.permissions._git import parse_parameters


@pytest.mark.parametrize(
    ("value", "entries"),
    [
        ("'alias.p'='push'", [("alias.p", "push")]),
        ("'alias.p=push'", [("alias.p", "push")]),  # the older form
        ("'a.b'='it'\\''s' 'c.d'='x y'", [("a.b", "it's"), ("c.d", "x y")]),
        ("'alias.p'='!rm -rf .'  'x.y'='1' ", [("alias.p", "!rm -rf ."), ("x.y", "1")]),
    ],
)
def test_git_config_parameters_read_as_git_reads_them(value: str, entries: list[tuple[str, str]]) -> None:
    parsed = parse_parameters(value)
    assert parsed is not None
    assert [(key, word.text if word else None) for key, word in parsed] == entries
    env = {**os.environ, "GIT_CONFIG_PARAMETERS": value, "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}
    for key, expected in entries:
        shown = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, check=True, env=env
        )
        assert shown.stdout == f"{expected}\n"


@pytest.mark.parametrize("value", ["'alias.p'='push", "alias.p=push", "'a'=x"])
def test_malformed_git_config_parameters_are_not_guessed(value: str) -> None:
    assert parse_parameters(value) is None
