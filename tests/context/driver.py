"""Drive `run_agent` with the real registry, tools and permission gate against a caching server.

Used by the long-session tests and by bench/bench_context.py. The workspace gets a
`.subagent/config.yaml` (the window, the reserve, caching and elision on or off), so the
settings reach the loop the way a user's would. The session is kept in memory unless a store is
given (saved outputs go to `outputs/` beside the workspace), and bash has no sandbox (the scripted
sessions do not call it); every other tool is the real one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agent.api import run_agent
from agent.model.anthropic_client import AnthropicModel
from agent.runtime.parts import default_parts
from agent.sessions.base import SessionStore
from tests.context.cache_server import Turn
from tests.loop.fakes import MemoryStore

SUMMARY_MARK = "<compact-request>"
MODEL = "claude-sonnet-5-5"


def write_config(
    workspace: Path, *, window: int, reserve: int = 20_000, caching: bool = True, elision: bool = True
) -> None:
    """The workspace's own config, merged over agents.yaml by the registry."""
    config = {
        "defaults": {
            "context_reserve_tokens": reserve,
            "prompt_caching": caching,
            "elide_tool_outputs": elision,
        },
        "models": {MODEL: {"context_window": window, "max_output_tokens": 8_000}},
    }
    (workspace / ".subagent").mkdir(parents=True, exist_ok=True)
    (workspace / ".subagent" / "config.yaml").write_text(yaml.safe_dump(config))


def is_summary_request(body: dict[str, Any]) -> bool:
    last = body["messages"][-1]["content"]
    return isinstance(last, list) and any(SUMMARY_MARK in b.get("text", "") for b in last)


def scripted(turns: Callable[[int], Turn], summary: str) -> Callable[[dict[str, Any]], Turn]:
    """A replier: summary requests get `summary`, the n-th other request gets `turns(n)`."""
    count = 0

    def reply(body: dict[str, Any]) -> Turn:
        nonlocal count
        if is_summary_request(body):
            return Turn(text=summary)
        count += 1
        return turns(count - 1)

    return reply


async def run_session(
    workspace: Path,
    url: str,
    prompt: str | None,
    max_turns: int,
    store: SessionStore | None = None,
    sandboxed: bool = False,
    **options: Any,
) -> list[Any]:
    """Every event of one `backend-engineer` run in `workspace` against the server at `url`
    (`options`, such as `resume=ID`, go to `run_agent`); `sandboxed` keeps the real sandbox and
    checkpoints (hooks run in the sandbox), else neither is made."""
    parts = dataclasses.replace(
        default_parts(), open_store=lambda: store or MemoryStore(workspace.parent / "outputs")
    )
    if not sandboxed:
        parts = dataclasses.replace(
            parts, make_sandbox=lambda config, ws, network: None, make_snapshot=lambda ws: None
        )
    client = AnthropicModel(api_key="test-key", base_url=url)
    return [
        event
        async for event in run_agent(
            prompt,
            agent="backend-engineer",
            cwd=workspace,
            model=MODEL,
            max_turns=max_turns,
            permission_mode="bypass",
            model_client=client,
            parts=parts,
            **options,
        )
    ]
