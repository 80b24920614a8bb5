"""Paths and arguments no OS call can take (a NUL byte, a lone surrogate) are the model's to fix:
every tool refuses them as a ToolInputError, before any ask and when run, never a crash."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from agent.errors import ToolInputError
from agent.sandbox.unsandboxed import UnsandboxedRunner
from agent.tool import Tool, ToolContext
from tools.bash import BashInput, BashTool
from tools.registry import load_tools

BAD = ["a\x00b", "caf\ud800"]


def _calls(bad: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("read", {"file_path": bad}),
        ("write", {"file_path": bad, "content": "x"}),
        ("edit", {"file_path": bad, "old_string": "a", "new_string": "b"}),
        ("patch", {"patch_text": f"*** Begin Patch\n*** Add File: {bad}\n+x\n*** End Patch\n"}),
        ("grep", {"pattern": "x", "path": bad}),
        ("grep", {"pattern": bad}),
        ("grep", {"pattern": "x", "glob": bad}),
        ("glob", {"pattern": "*.py", "path": bad}),
        ("glob", {"pattern": bad}),
        ("bash", {"command": f"echo {bad}"}),
    ]


@pytest.mark.parametrize("bad", BAD)
async def test_every_tool_refuses_what_no_path_can_hold(ctx: ToolContext, bad: str) -> None:
    names = ["read", "write", "edit", "patch", "grep", "glob", "bash"]
    tools: dict[str, Tool[Any]] = {t.name: t for t in load_tools(names)}
    for name, raw in _calls(bad):
        tool = tools[name]
        parsed = tool.input_model.model_validate(raw)
        with pytest.raises(ToolInputError, match=r"NUL byte|not valid Unicode"):
            tool.permission_requests(parsed, ctx)
        if name == "bash":
            continue  # no sandbox in this context: bash refuses for that first
        with pytest.raises(ToolInputError, match=r"NUL byte|not valid Unicode"):
            await tool.run(parsed, ctx)


async def test_bash_carries_and_reports_folders_whose_names_are_not_utf8(
    ws: Path, outside: Path, ctx: ToolContext
) -> None:
    """`cd` into `caf\\xe9`: carried as it is, shown with escapes, never a crash."""
    ctx.sandbox = UnsandboxedRunner()
    bash = BashTool()
    await bash.run(BashInput(command="mkdir $'caf\\xe9' && cd $'caf\\xe9'"), ctx)
    assert ctx.bash_cwd == ws / os.fsdecode(b"caf\xe9")
    await bash.run(BashInput(command="echo here > f"), ctx)
    assert (ws / os.fsdecode(b"caf\xe9") / "f").read_text() == "here\n"
    shutil.rmtree(ws / os.fsdecode(b"caf\xe9"))
    gone = (await bash.run(BashInput(command="true"), ctx)).output
    assert "caf\\xe9 no longer exists" in gone
    leave = f"mkdir {outside}/$'\\xff' && cd {outside}/$'\\xff'"
    away = (await bash.run(BashInput(command=leave), ctx)).output
    assert f"{outside}/\\xff is outside the workspace" in away
    for text in (gone, away):
        text.encode("utf-8")  # can be sent to the API and stored
