"""A subfolder's `AGENTS.md` is sent to the model with the first read there
(`FolderInstructions.for_read`): checked to be a regular file inside the workspace, then read.
Bash (a sibling subagent's, working in place) can swap it for a link to `~/.ssh/id_rsa` between
the two; the swap is made here exactly at that moment, after the check. The control: the same
file read by name then gives the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.prompt import instructions
from agent.prompt.instructions import FolderInstructions, load_project_instructions

SECRET = "CANARY-SECRET-id_rsa-instructions"


@pytest.fixture
def swapped_after_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A workspace whose `sub/AGENTS.md` becomes a link to a secret just after each check."""
    ws, key = tmp_path / "ws", tmp_path / "home" / ".ssh" / "id_rsa"
    (ws / ".git").mkdir(parents=True)
    (ws / "sub").mkdir()
    (ws / "sub" / "AGENTS.md").write_text("the subfolder's notes\n")
    (ws / "sub" / "app.py").write_text("x = 1\n")
    key.parent.mkdir(parents=True)
    key.write_text(SECRET)
    checked = instructions._project_file

    def check_then_swap(path: Path, root: Path) -> Path | None:
        found = checked(path, root)
        if found is not None and found.parent.name == "sub" and not found.is_symlink():
            found.rename(found.with_name("AGENTS.md.was"))
            found.symlink_to(key)
        return found

    monkeypatch.setattr(instructions, "_project_file", check_then_swap)
    return ws.resolve(), key


def test_a_subfolders_notes_swapped_after_the_check_are_not_read(
    swapped_after_check: tuple[Path, Path],
) -> None:
    ws, _key = swapped_after_check

    notes = FolderInstructions(ws, set()).for_read(ws / "sub" / "app.py")

    assert notes is None or SECRET not in notes
    assert SECRET in (ws / "sub" / "AGENTS.md").read_text()  # the control: by name, it is the key now


def test_the_prompts_notes_swapped_after_the_check_are_not_read(
    swapped_after_check: tuple[Path, Path],
) -> None:
    ws, _key = swapped_after_check

    block = load_project_instructions(ws / "sub", user_dir=ws / "no-user-dir")

    assert SECRET not in block.text
    assert SECRET in (ws / "sub" / "AGENTS.md").read_text()
