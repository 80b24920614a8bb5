"""`/undo` and `/diff` in a real chat (tmux, scripted model, real git checkpoints).

`/undo` picks its target as `subagent undo` does (agent.sessions.undo_target): each use goes one
step further back, never forward again; a git failure under it is an error line, not the end.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.bwrap,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

THREE_WRITES = """
scripts:
  - replies:
      - text: Writing a.
        tool_calls: [{name: bash, input: {command: "echo a > a.txt"}}]
      - text: Done with a.
      - text: Writing b.
        tool_calls: [{name: bash, input: {command: "echo b > b.txt"}}]
      - text: Done with b.
      - text: Writing c.
        tool_calls: [{name: bash, input: {command: "echo c > c.txt"}}]
      - text: Done with c.
"""


def _files(workspace: Path) -> list[str]:
    return sorted(p.name for p in workspace.iterdir() if p.suffix == ".txt")


def _bypass_chat(chat, workspace: Path):
    config = workspace / ".subagent"
    config.mkdir()
    (config / "config.yaml").write_text("permission:\n  bash: allow\n")
    term = chat(THREE_WRITES, "--agent", "backend-engineer", "--permission-mode", "bypass", "--trust")
    term.wait_idle()
    for name in ("a", "b", "c"):
        term.type_line(f"write {name}")
        term.wait_for(f"Done with {name}.")
        term.wait_idle()
    assert _files(workspace) == ["a.txt", "b.txt", "c.txt"]
    return term


def test_undo_three_times_goes_back_one_step_each_time(chat, workspace: Path) -> None:
    term = _bypass_chat(chat, workspace)
    expected = [["a.txt", "b.txt"], ["a.txt"], []]
    for count, files in enumerate(expected, start=1):
        term.type_line("/undo")
        term.wait_for("undid step", count=count)
        term.wait_idle()
        assert _files(workspace) == files, term.screen(history=True)
    term.type_line("/undo")  # a fourth: nothing is left to undo, and nothing comes back
    term.wait_for("nothing to undo")
    term.wait_idle()
    assert _files(workspace) == []


@pytest.mark.parametrize("damage", ["removed", "a file in its place"])
def test_diff_and_undo_with_the_checkpoint_repository_gone_say_so_and_the_chat_goes_on(
    chat, workspace: Path, damage: str
) -> None:
    term = _bypass_chat(chat, workspace)
    checkpoints = Path(os.environ["SUBAGENT_HOME"]) / "checkpoints"
    assert checkpoints.is_dir()
    shutil.rmtree(checkpoints)  # pruned by hand, or the data dir moved, while the chat runs
    if damage == "a file in its place":
        checkpoints.write_text("not a folder\n")
    for count, command in enumerate(("/diff", "/undo"), start=1):
        term.type_line(command)
        term.wait_for("error: the checkpoint repository", count=count)
        term.wait_idle()
    screen = term.screen(history=True)
    assert "Traceback" not in screen and "[exited]" not in screen
    assert str(checkpoints) in screen.replace("\n", "")
    why = "moved or pruned" if damage == "removed" else "cannot be opened"
    assert screen.count(why) == 2, screen
    assert _files(workspace) == ["a.txt", "b.txt", "c.txt"]  # nothing was changed
    term.type_line("/cost")  # the chat still answers
    term.wait_for("model turns")
