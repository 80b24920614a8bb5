"""Custom slash commands in an editor: `subagent acp` offers the workspace's commands
(`available_commands_update`) and runs a prompt starting with `/name` as that command, driven by
the ACP SDK's client side with the scripted model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import IO, Any

import pytest
import yaml
from acp import text_block
from acp.schema import ResourceContentBlock

from tests.acp.acp_client import RecordingClient, acp_agent, open_session
from tests.conftest import put

REVIEW = (
    "---\ndescription: Review a file\nargument-hint: FILE [FOCUS]\n---\nReview @$1 for $2.\nAll: $ARGUMENTS\n"
)
# `allowed-tools: Write` would let the command's run write without asking (edits are asked in
# the default mode), but only when the workspace is trusted.
STAMP = "---\ndescription: Stamp the tree\nallowed-tools: Write\n---\nStamp the tree now.\n"
SCRIPT = """\
- match: "Review @app.py for speed.\\nAll: app.py speed"
  replies:
    - text: reviewed as a command
- match: "Stamp the tree now."
  replies:
    - tool_calls: [{name: write, input: {file_path: stamp.txt, content: stamped}}]
    - text: stamp attempted
- match: "Explain @/"
  replies:
    - text: explained the mention
- match: "/nope "
  replies:
    - text: sent as written
- match: "Deploy to prod now."
  replies:
    - text: deployed as a command
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = (tmp_path / "ws").resolve()
    put(ws, "app.py", "print('APP-BODY')\n")
    put(ws, ".claude/commands/review.md", REVIEW)
    put(ws, ".claude/commands/stamp.md", STAMP)
    put(ws, ".opencode/commands/explain.md", "Explain $ARGUMENTS")
    return ws


@pytest.fixture
def script(tmp_path: Path) -> Path:
    return put(tmp_path, "script.yaml", yaml.safe_dump({"scripts": yaml.safe_load(SCRIPT)}))


@pytest.fixture
def stderr(tmp_path: Path) -> IO[str]:
    with open(tmp_path / "agent-stderr.txt", "w+") as handle:
        yield handle


async def _offered(client: RecordingClient, count: int) -> list[Any]:
    """Wait (up to 30 s) for the `count`th `available_commands_update`; its commands."""
    for _ in range(3000):
        if len(updates := client.of_kind("available_commands_update")) >= count:
            return list(updates[count - 1].available_commands)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no available_commands_update #{count}; updates: {client.updates}")


def _text(client: RecordingClient, kind: str = "agent_message_chunk") -> str:
    return "".join(u.content.text for u in client.of_kind(kind))


def _answer_index(client: RecordingClient, session_id: str) -> int:
    """Where the answer that opened `session_id` is among the messages the client received."""
    return next(i for i, m in enumerate(client.incoming)
                if "method" not in m and (m.get("result") or {}).get("sessionId") == session_id)  # fmt: skip


def _update_index(client: RecordingClient) -> int:
    return next(i for i, m in enumerate(client.incoming) if m.get("method") == "session/update"
                and m["params"]["update"]["sessionUpdate"] == "available_commands_update")  # fmt: skip


@pytest.mark.slow
async def test_commands_are_offered_and_run_expanded_and_an_unknown_one_is_sent_as_written(
    workspace: Path, script: Path, stderr: IO[str]
) -> None:
    client = RecordingClient()
    async with acp_agent(client, workspace, script, stderr) as conn:
        session_id = await open_session(conn, workspace)
        offered = await _offered(client, 1)
        assert [(c.name, c.description) for c in offered] == [
            ("explain", "Explain $ARGUMENTS"),  # no description: its first line, as Claude Code shows
            ("review", "Review a file"),
            ("stamp", "Stamp the tree"),
        ]
        assert offered[1].input.root.hint == "FILE [FOCUS]" and offered[2].input is None
        assert _update_index(client) > _answer_index(client, session_id)  # the session is known by then

        done = await conn.prompt(session_id=session_id, prompt=[text_block("/review app.py speed")])
        assert done.stop_reason == "end_turn"
        assert _text(client) == "reviewed as a command"  # the scripted model matched the expansion

        mention = ResourceContentBlock(type="resource_link", uri=f"file://{workspace}/app.py", name="app.py")
        explained = (await conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        client.updates.clear()
        done = await conn.prompt(session_id=explained, prompt=[text_block("/explain"), mention])
        assert done.stop_reason == "end_turn" and _text(client) == "explained the mention"
        other = (await conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        client.updates.clear()
        done = await conn.prompt(session_id=other, prompt=[text_block("/nope "), mention])
        assert done.stop_reason == "end_turn" and _text(client) == "sent as written"

        client.updates.clear()
        await conn.load_session(cwd=str(workspace), session_id=session_id, mcp_servers=[])
        replayed = _text(client, "user_message_chunk")
        assert "Review @app.py for speed." in replayed and "print('APP-BODY')" in replayed  # @app.py included
        assert [c.name for c in await _offered(client, 1)] == [
            "explain",
            "review",
            "stamp",
        ]  # after a load too
        client.updates.clear()
        await conn.load_session(cwd=str(workspace), session_id=explained, mcp_servers=[])
        assert "print('APP-BODY')" in _text(client, "user_message_chunk")  # the mentioned file, included
        client.updates.clear()
        await conn.load_session(cwd=str(workspace), session_id=other, mcp_servers=[])
        assert (
            _text(client, "user_message_chunk") == f"/nope \n\n@{workspace}/app.py"
        )  # as the editor sent it


@pytest.mark.slow
async def test_a_command_added_during_the_session_runs_and_is_offered_before_the_answer(
    workspace: Path, script: Path, stderr: IO[str]
) -> None:
    client = RecordingClient()
    async with acp_agent(client, workspace, script, stderr) as conn:
        session_id = await open_session(conn, workspace)
        await _offered(client, 1)
        put(workspace, ".claude/commands/deploy.md", "Deploy to $1 now.")  # the person adds one
        done = await conn.prompt(session_id=session_id, prompt=[text_block("/deploy prod")])
        assert done.stop_reason == "end_turn" and _text(client) == "deployed as a command"
        assert [c.name for c in await _offered(client, 2)] == ["deploy", "explain", "review", "stamp"]
        last = client.incoming[-1]
        assert "result" in last and "method" not in last  # the new list came before the answer


@pytest.mark.slow
@pytest.mark.parametrize("trusted", [False, True])
async def test_a_commands_allowed_tools_grant_only_in_a_trusted_workspace(
    workspace: Path, script: Path, stderr: IO[str], trusted: bool
) -> None:
    client = RecordingClient(lambda call: "reject_once")
    async with acp_agent(client, workspace, script, stderr, *(["--trust"] if trusted else [])) as conn:
        session_id = await open_session(conn, workspace)
        done = await conn.prompt(session_id=session_id, prompt=[text_block("/stamp")])
    assert done.stop_reason == "end_turn" and "stamp attempted" in _text(client)
    if trusted:  # written without a question
        assert client.asks == [] and (workspace / "stamp.txt").read_text() == "stamped"
        assert "allowed-tools" not in _text(client)
    else:  # asked as any other call (and rejected), and the refusal shown before the reply
        assert len(client.asks) == 1 and not (workspace / "stamp.txt").exists()
        assert "refused: " in _text(client) and "allowed-tools of /stamp" in _text(client)
