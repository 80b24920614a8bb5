"""`run_task` with `isolate: true`, driven by the MCP SDK's stdio client: tasks in trees of their
own, at the same time in one workspace, merged back without losing either's change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp.types import ElicitResult

from tests.mcp.stdio_client import mcp_client

SCRIPT = """\
- agent: orchestrator
  match: top line
  replies:
    - tool_calls: [{name: read, input: {file_path: lines.txt}}]
    - tool_calls: [{name: edit, input: {file_path: lines.txt, old_string: one, new_string: ONE}}]
    - text: Top line done.
    - tool_calls: [{name: read, input: {file_path: lines.txt}}]
    - tool_calls: [{name: edit, input: {file_path: lines.txt, old_string: three, new_string: THREE}}]
    - text: Middle line done too.
- agent: orchestrator
  match: clash
  replies:
    - tool_calls: [{name: read, input: {file_path: lines.txt}}]
    - tool_calls: [{name: edit, input: {file_path: lines.txt, old_string: one, new_string: uno}}]
    - text: Changed the top line.
- agent: orchestrator
  match: bottom line
  replies:
    - tool_calls: [{name: read, input: {file_path: lines.txt}}]
    - tool_calls: [{name: edit, input: {file_path: lines.txt, old_string: five, new_string: FIVE}}]
    - text: Bottom line done.
"""
pytestmark = pytest.mark.slow  # the server starts once per test


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "lines.txt").write_text("one\ntwo\nthree\nfour\nfive\n")
    (tmp_path / "script.yaml").write_text(yaml.safe_dump({"scripts": yaml.safe_load(SCRIPT)}))
    return ws


async def test_two_isolated_tasks_edit_one_file_at_once_and_both_land(workspace: Path) -> None:
    def task(prompt: str) -> dict[str, Any]:
        return {"prompt": prompt, "cwd": str(workspace), "permission_mode": "bypass", "isolate": True}

    async with mcp_client(workspace) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "isolate" in tools["run_task"].input_schema["properties"]
        top, bottom = await asyncio.gather(
            client.call_tool("run_task", task("change the top line")),
            client.call_tool("run_task", task("change the bottom line")),
        )
        assert not top.is_error and not bottom.is_error, (top.content, bottom.content)
        assert (workspace / "lines.txt").read_text() == "ONE\ntwo\nthree\nfour\nFIVE\n"
        for done in (top.structured_content, bottom.structured_content):
            assert done["status"] == "success" and done["isolated"] and done["merged"]
            assert done["files_changed"] == [str(workspace / "lines.txt")]
            assert done["branch"] is None and f"merged into {workspace}" in done["take"]
        assert top.structured_content["session_id"] != bottom.structured_content["session_id"]

        again = await client.call_tool(
            "reply", {"session_id": top.structured_content["session_id"], "prompt": "and the middle"}
        )
        assert not again.is_error, again.content
        assert again.structured_content["isolated"] and again.structured_content["merged"]
    assert (workspace / "lines.txt").read_text() == "ONE\ntwo\nTHREE\nfour\nFIVE\n"


async def test_a_task_in_place_holds_the_workspace_from_isolated_ones(workspace: Path) -> None:
    """An isolated task merges into the workspace, so it waits for no one and is refused while a
    task works in place there (the in-place one is told nothing: it holds the workspace)."""
    from agent.sessions._lock import hold_workspace
    from agent.sessions.leftovers import lock_dir

    with hold_workspace(lock_dir(), workspace, "a test"):
        async with mcp_client(workspace) as client:
            busy = await client.call_tool(
                "run_task", {"prompt": "change the top line", "cwd": str(workspace), "isolate": True}
            )
    assert busy.is_error and "a test" in busy.content[0].text
    assert (workspace / "lines.txt").read_text().startswith("one\n")


async def test_work_that_does_not_merge_is_left_on_a_branch_and_the_result_says_how_to_take_it(
    workspace: Path,
) -> None:
    """The workspace's top line changes while the task (in its tree) is asked about its edit of
    the same line: its work conflicts, stays on a branch, and the workspace keeps its own."""

    async def elicit(context: Any, params: Any) -> ElicitResult:
        (workspace / "lines.txt").write_text("first\ntwo\nthree\nfour\nfive\n")  # meanwhile
        return ElicitResult(action="accept", content={"allow": True, "always": False})

    async with mcp_client(workspace, elicitation_callback=elicit) as client:
        done = await client.call_tool("run_task", {"prompt": "clash", "cwd": str(workspace), "isolate": True})
    result = done.structured_content
    assert done.is_error and result["status"] == "error_merge_conflict", result
    assert result["conflicts"] == ["lines.txt"] and not result["merged"]
    assert result["branch"].startswith("refs/heads/subagent/orchestrator-mcp-"), result["branch"]
    assert result["files_changed"] == [str(workspace / "lines.txt")]  # changed on the branch
    assert "+uno" in result["patch"] and f"show {result['branch']}:PATH" in result["take"]
    assert result["take"] in result["result"]
    assert (workspace / "lines.txt").read_text().startswith("first\n")
