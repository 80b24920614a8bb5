"""What each request carries besides the conversation: system blocks, thinking, cache breakpoints.

Cache placement (prefix order is tools, system, messages): one breakpoint on the last system
block covers the tools and the system prompt, which never change within a session; the
environment block is computed once when the session starts and kept byte-identical. Then a
rolling breakpoint on the last message, and one on the user message before it, so each request
reads the previous request's whole prefix from the cache. Three breakpoints at most (the API
allows four). Breakpoints are put on copies: the stored transcript never carries them.
"""

from __future__ import annotations

import asyncio
import platform
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

from agent.spec import ThinkingConfig

_EPHEMERAL = {"type": "ephemeral"}
_EFFORT_BUDGET = {"low": 4_000, "medium": 10_000, "high": 32_000}
_MIN_THINKING_BUDGET = 1_024


def _git_summary(cwd: Path) -> str:
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain=v1", "--branch"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if proc.returncode != 0:
        return "not a git repository"
    lines = proc.stdout.splitlines()
    branch = lines[0].removeprefix("## ") if lines else "?"
    changed = len(lines) - 1
    return (
        f"branch {branch}, {changed} changed file{'s' if changed != 1 else ''}"
        if changed
        else (f"branch {branch}, clean")
    )


async def environment_block(cwd: Path) -> str:
    """A few lines about where the agent works; computed once per session."""
    git = await asyncio.to_thread(_git_summary, cwd)
    return (
        "<env>\n"
        f"Working directory: {cwd}\n"
        f"Platform: {platform.system().lower()}\n"
        f"Date: {date.today().isoformat()}\n"
        f"Git: {git}\n"
        "</env>"
    )


def system_blocks(persona: str, env: str) -> list[dict[str, Any]]:
    """The system prompt: the persona as written, then the environment block, cached together."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": persona.strip()}]
    if env:
        blocks.append({"type": "text", "text": env})
    blocks[-1]["cache_control"] = dict(_EPHEMERAL)
    return blocks


def thinking_param(config: ThinkingConfig | None, max_tokens: int, supported: bool) -> dict[str, Any] | None:
    """The request's `thinking` option from the agent's budget or effort (None: off)."""
    if config is None or not supported:
        return None
    budget = config.budget_tokens or _EFFORT_BUDGET.get(config.effort or "", 0)
    if budget <= 0:
        return None
    budget = max(_MIN_THINKING_BUDGET, min(budget, max_tokens - _MIN_THINKING_BUDGET))
    if budget >= max_tokens:
        return None
    return {"type": "enabled", "budget_tokens": budget}


def with_cache_breakpoints(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `messages` with the rolling breakpoints placed (see the module docstring)."""
    out = list(messages)
    marked = 0
    for index in range(len(out) - 1, -1, -1):
        if marked == 2:
            break
        if index != len(out) - 1 and out[index]["role"] != "user":
            continue
        content = out[index]["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not content:
            continue
        last = dict(content[-1])
        if last.get("type") in ("thinking", "redacted_thinking"):
            continue  # thinking blocks cannot carry cache_control
        last["cache_control"] = dict(_EPHEMERAL)
        out[index] = {**out[index], "content": [*content[:-1], last]}
        marked += 1
    return out
