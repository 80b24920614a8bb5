"""A custom command's `@path` puts a workspace file into the prompt: a path that leads outside the
workspace (`@../secret`, a link to `~/.ssh/id_rsa`) stays as written, and what is read is the file
that was checked, never a link swapped in after the check (made here exactly then). The control:
the same name read afterwards gives the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.prompt import custom_commands
from agent.prompt.custom_commands import CustomCommand, expand

SECRET = "CANARY-SECRET-id_rsa-include"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "home" / "project"
    workspace.mkdir(parents=True)
    (tmp_path / "home" / "secret").write_text(SECRET)
    (workspace / "notes.md").write_text("NOTES-3\n")
    (workspace / "key").symlink_to(tmp_path / "home" / "secret")
    return workspace.resolve()


def test_includes_outside_the_workspace_stay_as_written(ws: Path) -> None:
    command = CustomCommand("review", "look at @notes.md @../secret @key @/etc/hostname")

    prompt = expand(command, "", ws)

    assert '<file path="notes.md">\nNOTES-3\n' in prompt
    assert SECRET not in prompt and prompt.count("<file ") == 1
    assert "@../secret @key @/etc/hostname" in prompt


def test_an_include_swapped_for_a_link_after_the_check_is_not_read(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = custom_commands.outside

    def check_then_swap(path: Path, folder: Path) -> Path | None:
        found = checked(path, folder)
        notes = ws / "notes.md"
        if found is None and path.name == "notes.md" and not notes.is_symlink():
            notes.unlink()
            notes.symlink_to(ws.parent / "secret")
        return found

    monkeypatch.setattr(custom_commands, "outside", check_then_swap)

    prompt = expand(CustomCommand("review", "look at @notes.md"), "", ws)

    assert SECRET not in prompt
    assert SECRET in (ws / "notes.md").read_text()  # the control
