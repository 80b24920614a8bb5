"""run_agent end to end in-process: the real SDK over HTTP to a local server, collaborators injected."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from agent.api import run_agent
from agent.errors import ConfigError
from agent.paths import builtin_dir
from agent.registry.schema import load_registry
from agent.registry.spec import AgentSpec
from agent.runtime.parts import RuntimeParts
from tests.loop.fakes import MemoryStore, ReadNoteTool, SleepTool, TableGate, WriteNoteTool
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.request_check import check_request


@dataclasses.dataclass
class FakeRegistry:
    config: Any
    specs: dict[str, AgentSpec]

    def get(self, name: str) -> AgentSpec:
        return self.specs[name]


def parts_for(store: MemoryStore, snapshots: list[str]) -> RuntimeParts:
    config = load_registry(builtin_dir() / "agents.yaml")
    spec = AgentSpec(
        name="backend-engineer",
        prompt="You are a backend engineer.",
        model="sonnet",
        tools=["read_note", "write_note"],
    )
    tools = {t.name: t for t in (ReadNoteTool(), WriteNoteTool(), SleepTool())}

    def make_snapshot(workspace: Path) -> Any:
        async def snapshot(label: str) -> str:
            snapshots.append(label)
            return f"sha{len(snapshots)}"

        return snapshot

    return RuntimeParts(
        load_registry=lambda cwd, trust: FakeRegistry(config, {"backend-engineer": spec}),
        load_tools=lambda names: [tools[n] for n in names],
        make_sandbox=lambda config, workspace, network: None,
        make_gate=lambda rules, mode, approver, timeout, memory: TableGate(),
        open_store=lambda: store,
        repair=lambda messages, started: messages,
        make_snapshot=make_snapshot,
        headless_approver=lambda: object(),  # type: ignore[return-value]
    )


@pytest.fixture
def api_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")


async def test_a_task_over_http_with_tools_store_and_checkpoints(
    tmp_path: Path, api_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in.txt").write_text("data")
    replies = [
        sse.reply(sse.tool_block(0, "toolu_r", "read_note", {"name": "in.txt"}), stop_reason="tool_use"),
        sse.reply(
            sse.tool_block(0, "toolu_w", "write_note", {"name": "out.txt", "text": "DATA"}),
            stop_reason="tool_use",
        ),
        sse.reply(sse.text_block(0, "Copied in.txt to out.txt.")),
    ]
    store, snapshots = MemoryStore(), []
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        events = [
            e
            async for e in run_agent(
                "copy it", agent="backend-engineer", cwd=tmp_path, parts=parts_for(store, snapshots)
            )
        ]
    result = events[-1]
    assert (result.subtype, result.num_turns, result.result) == ("success", 3, "Copied in.txt to out.txt.")
    assert (tmp_path / "out.txt").read_text() == "DATA"
    assert snapshots == ["write_note", "end of run"] and store.checkpoint_rows[0].tool_use_id == "toolu_w"
    assert [m.commit for m in store.mark_rows] == ["sha2"]  # the end snapshot marks where the run stopped
    assert store.started_tools(result.session_id) == {"toolu_r", "toolu_w"}  # for repair after a crash
    for body in server.requests:
        check_request(body)
    first = server.requests[0]
    assert first["model"] == "claude-sonnet-5-5"  # persona `sonnet` through the alias table
    assert "Working directory: " + str(tmp_path.resolve()) in first["system"][-1]["text"]
    assert [t["name"] for t in first["tools"]] == ["read_note", "write_note"]
    assert [r.role for r in store.rows] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert store.updates[-1]["status"] == "completed"


async def test_resume_sends_the_stored_history_first(
    tmp_path: Path, api_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, snapshots = MemoryStore(), []
    parts = parts_for(store, snapshots)
    replies = [sse.reply(sse.text_block(0, "first answer")), sse.reply(sse.text_block(0, "second answer"))]
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        first = [e async for e in run_agent("one", agent="backend-engineer", cwd=tmp_path, parts=parts)]
        session = first[-1].session_id
        second = [
            e
            async for e in run_agent(
                "two", agent="backend-engineer", cwd=tmp_path, parts=parts, continue_latest=True
            )
        ]
    assert second[-1].session_id == session and second[0].resumed
    texts = [m["content"][0]["text"] for m in server.requests[1]["messages"]]
    assert texts == ["one", "first answer", "two"]


async def test_without_a_key_the_run_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        async for _ in run_agent(
            "x", agent="backend-engineer", cwd=tmp_path, parts=parts_for(MemoryStore(), [])
        ):
            pass


async def test_without_bubblewrap_agents_run_and_bash_says_why(
    tmp_path: Path, api_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.runtime.parts import default_parts
    from tools.bash import BashTool

    config = load_registry(builtin_dir() / "agents.yaml")
    reader = AgentSpec(name="reader", prompt="Read.", model="sonnet", tools=["read_note"])
    shell = AgentSpec(name="shell", prompt="Run.", model="sonnet", tools=["read_note", "bash"])
    tools = {t.name: t for t in (ReadNoteTool(), BashTool())}
    parts = dataclasses.replace(
        parts_for(MemoryStore(), []),
        load_registry=lambda cwd, trust: FakeRegistry(config, {"reader": reader, "shell": shell}),
        load_tools=lambda names: [tools[n] for n in names],
        make_sandbox=default_parts().make_sandbox,  # the real probe, with no bwrap on PATH
    )
    empty = tmp_path / "bin"
    empty.mkdir()
    replies = [
        sse.reply(sse.text_block(0, "read it")),
        sse.reply(sse.tool_block(0, "toolu_b", "bash", {"command": "ls"}), stop_reason="tool_use"),
        sse.reply(sse.text_block(0, "no shell here")),
    ]
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("PATH", str(empty))
        read = [e async for e in run_agent("x", agent="reader", cwd=tmp_path, parts=parts)]
        ran = [e async for e in run_agent("y", agent="shell", cwd=tmp_path, parts=parts)]
    assert read[-1].subtype == "success" and ran[-1].subtype == "success"
    answer = server.requests[2]["messages"][-1]["content"][0]
    text = str(answer["content"])
    assert answer["is_error"] and "bubblewrap (`bwrap`) is not installed" in text
    assert "apt-get install bubblewrap" in text


def _off_the_loop(calls: list[str], name: str, factory: Any) -> Any:
    """`factory`, noting whether it ran on the event loop's thread (it must not: it blocks)."""

    def wrapped(*args: Any) -> Any:
        try:
            asyncio.get_running_loop()
            calls.append(f"{name} on the loop")
        except RuntimeError:
            calls.append(f"{name} in a thread")
        return factory(*args)

    return wrapped


async def test_blocking_setup_runs_off_the_event_loop(
    tmp_path: Path, api_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = parts_for(MemoryStore(), [])
    spec = base.load_registry(tmp_path, False).get("backend-engineer").model_copy(update={"tools": ["bash"]})
    calls: list[str] = []
    registry = FakeRegistry(base.load_registry(tmp_path, False).config, {"backend-engineer": spec})
    parts = dataclasses.replace(
        base,
        load_registry=_off_the_loop(calls, "registry", lambda cwd, trust: registry),
        load_tools=lambda names: [],
        open_store=_off_the_loop(calls, "store", base.open_store),
        make_sandbox=_off_the_loop(calls, "sandbox", base.make_sandbox),  # the probe runs bwrap
    )
    with MessagesServer([sse.reply(sse.text_block(0, "done"))]) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        events = [e async for e in run_agent("x", agent="backend-engineer", cwd=tmp_path, parts=parts)]
    assert events[-1].subtype == "success"
    assert sorted(calls) == ["registry in a thread", "sandbox in a thread", "store in a thread"]


async def test_an_agent_with_webfetch_gets_it_beside_the_seams_tools(
    tmp_path: Path, api_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webfetch is the runtime's own tool, not the seam's (its module is imported only for an agent
    that lists it: tests/cli/test_startup.py)."""
    parts = parts_for(MemoryStore(), [])
    config = load_registry(builtin_dir() / "agents.yaml")
    fetcher = AgentSpec(name="fetcher", prompt="Fetch.", model="sonnet", tools=["read_note", "webfetch"])
    parts = dataclasses.replace(
        parts, load_registry=lambda cwd, trust: FakeRegistry(config, {"fetcher": fetcher})
    )
    with MessagesServer([sse.reply(sse.text_block(0, "done"))]) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        events = [e async for e in run_agent("look", agent="fetcher", cwd=tmp_path, parts=parts)]
    assert events[-1].subtype == "success"
    tools = server.requests[0]["tools"]
    assert [t["name"] for t in tools] == ["read_note", "webfetch"]
    assert tools[1]["input_schema"]["required"] == ["url"]
