"""What an ask shows a person: the call's input as data, and a readable detail (never a repr)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.chat._ask_view import ask_detail
from agent.loop.tool_calls import ToolRunner
from agent.loop.turn_calls import ToolCall, TurnCalls
from agent.tool import ToolContext
from tests.loop.fakes import TableGate, WriteNoteTool
from tools.bash import BashTool
from tools.edit import EditTool
from tools.patch import PatchTool
from tools.write import WriteTool

EDIT = {"file_path": "a.py", "old_string": "x = 1\ny", "new_string": "x = 2\ny"}
CONTENT = "".join(f"l{i}\n" for i in range(500))
PATCH = "*** Begin Patch\n*** Update File: a.py\n@@\n-x = 1\n+x = 2\n*** End Patch"
CALLS = [
    ToolCall(id="b", name="bash", input={"command": "rm -rf build && make"}),
    ToolCall(id="e", name="edit", input=EDIT),
    ToolCall(id="w", name="write", input={"file_path": "big.txt", "content": CONTENT}),
    ToolCall(id="p", name="patch", input={"patch_text": PATCH}),
    ToolCall(id="n", name="write_note", input={"name": "f", "text": "x"}),
]  # fmt: skip


async def _asked(tmp_path: Path) -> dict[str, Any]:
    gate = TableGate({"bash": "ask", "edit": "ask"}, answer="deny")
    tools = [BashTool(), EditTool(), WriteTool(), PatchTool(), WriteNoteTool()]
    runner = ToolRunner(
        session_id="s", agent="a", tools={t.name: t for t in tools},  # type: ignore[misc]
        ctx=ToolContext(workspace=tmp_path, data_dir=tmp_path / ".data"), gate=gate,  # type: ignore[arg-type]
    )  # fmt: skip
    await runner.run(TurnCalls(calls=list(CALLS)), {}, lambda event: None)
    return {r.tool_use_id: r for r in gate.asked}


async def test_an_ask_carries_the_input_and_a_readable_detail(tmp_path: Path) -> None:
    asked = await _asked(tmp_path)
    assert [r.tool_input for r in asked.values()] == [c.input for c in CALLS]
    assert asked["b"].detail == "rm -rf build && make"
    diff = ["--- a.py", "+++ a.py", "@@ -1,2 +1,2 @@", "-x = 1", "+x = 2", " y"]
    assert asked["e"].detail.splitlines() == diff
    write = asked["w"].detail.splitlines()
    assert write[:3] == ["+++ big.txt", "+l0", "+l1"] and len(write) < 100 and "truncated" in write[-1]
    assert asked["p"].detail == PATCH
    assert asked["n"].detail == "name: f\ntext: x"  # a tool without a preview: its fields
    assert all("{'" not in r.detail for r in asked.values())


async def test_chat_highlights_the_detail_by_what_the_input_is(tmp_path: Path) -> None:
    asked = await _asked(tmp_path)
    lexers = {key: ask_detail(request)[1] for key, request in asked.items()}
    assert lexers == {"b": "bash", "e": "diff", "w": "diff", "p": "diff", "n": ""}
    assert ask_detail(asked["e"])[0] == asked["e"].detail
