"""Builders for orchestrator tests: a workspace with its config and personas, a scripted model, a run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from agent.api import run_agent
from agent.model.scripted import ScriptedModel, ScriptFile
from agent.trust.store import set_trust

WORKER = """---
description: "Test worker that edits files"
mode: subagent
tools: {read: true, write: true, edit: true, bash: true, glob: true, grep: true, patch: true}
---
You do small edits.
"""


def workspace(
    tmp_path: Path, config: dict[str, Any] | None = None, files: dict[str, str] | None = None
) -> Path:
    """A trusted workspace with `.subagent/config.yaml` (bypass, no sandbox unless said) and a `worker`
    persona (trusted: its config is the test's, not a stranger's)."""
    ws = tmp_path / "ws"
    (ws / ".subagent" / "agents").mkdir(parents=True)
    base: dict[str, Any] = {"defaults": {"permission_mode": "bypass", "sandbox": {"kind": "none"}}}
    for key, value in (config or {}).items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    (ws / ".subagent" / "config.yaml").write_text(yaml.safe_dump(base))
    (ws / ".subagent" / "agents" / "worker.md").write_text(WORKER)
    set_trust(ws, True)
    for rel, text in (files or {}).items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    return ws


def task(prompt: str, description: str = "job", agent: str = "worker") -> dict[str, Any]:
    return {"name": "task", "input": {"description": description, "prompt": prompt, "subagent_type": agent}}


def write(path: str, content: str) -> dict[str, Any]:
    return {"name": "write", "input": {"file_path": path, "content": content}}


def model(scripts: list[dict[str, Any]]) -> ScriptedModel:
    return ScriptedModel(ScriptFile.model_validate({"scripts": scripts}))


async def collect(prompt: str, ws: Path, client: ScriptedModel, **options: Any) -> list[Any]:
    """Every event of an orchestrator run, in order."""
    return [e async for e in run_agent(prompt, agent="orchestrator", cwd=ws, model_client=client, **options)]


def results(events: list[Any], name: str = "task") -> list[Any]:
    """The parent's finished calls of tool `name`, in order."""
    return [
        e
        for e in events
        if e.type == "tool_call_finished" and e.name == name and e.parent_tool_use_id is None
    ]


def final(events: list[Any]) -> Any:
    return next(e for e in reversed(events) if e.type == "result" and e.parent_tool_use_id is None)


async def until(predicate: Any, timeout: float = 30.0) -> None:
    """Wait (polling) until predicate() is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
