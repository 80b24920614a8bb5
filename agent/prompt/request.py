"""A turn's request: `build_request` puts the conversation together with what each request carries
besides it (system blocks, thinking, cache breakpoints); the loop builds every request here.

Cache placement (prefix order is tools, system, messages): a breakpoint on the persona block
covers the tools and the persona, which are the same for every session of an agent (so a new
child session of the same agent reads them from the cache); one on the last system block covers
the environment block, which is computed once when the session starts (date, git status) and then
kept byte-identical. Then a rolling breakpoint on the last message, and one on the user message
before it, so each request reads the previous request's whole prefix from the cache. Four
breakpoints at most, the API's limit. Breakpoints are put on copies: the stored transcript never
carries them. See docs/context.md.
"""

from __future__ import annotations

import asyncio
import logging
import platform
from datetime import date
from pathlib import Path
from typing import Any

from agent.model.base import ModelRequest
from agent.model.resolve import ResolvedModel
from agent.registry.spec import AgentSpec, ThinkingConfig
from agent.transcript import Message, messages_to_wire

_EPHEMERAL = {"type": "ephemeral"}
_EFFORT_BUDGET = {"low": 4_000, "medium": 10_000, "high": 32_000}
_MIN_THINKING_BUDGET = 1_024
_GIT_TIMEOUT_S = 3.0
log = logging.getLogger(__name__)


def _git_summary(cwd: Path) -> str:
    """Branch and changed files, from git run through a view that never reads the repo's config."""
    from agent.errors import GitDirRefusedError, HostGitError
    from agent.hostgit.layout import find_repository
    from agent.hostgit.runner import run_git
    from agent.hostgit.view import repository_view

    try:
        layout = find_repository(cwd)
        if layout is None:
            return "not a git repository"
        with repository_view(layout, timeout=_GIT_TIMEOUT_S) as view:
            proc = run_git(view, "status", "--porcelain=v1", "--branch", timeout=_GIT_TIMEOUT_S)
    except GitDirRefusedError as exc:
        log.warning("%s", exc)
        return f"not inspected: {exc}"
    except (HostGitError, OSError):
        return "unknown"
    lines = proc.stdout.decode(errors="replace").splitlines()
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


def build_request(
    spec: AgentSpec, model: ResolvedModel, max_output_tokens: int, env_block: str,
    messages: list[Message], tools: list[dict[str, Any]],
) -> ModelRequest:  # fmt: skip
    """The request for the next turn of `spec` on `model` over `messages` (before the context
    policy's last touches, `agent.context.manager.ContextManager.finish_request`)."""
    max_tokens = min(max_output_tokens, model.max_output_tokens)
    return ModelRequest(
        model=model.id,
        system=system_blocks(spec.prompt, env_block),
        messages=with_cache_breakpoints(messages_to_wire(messages)),
        tools=tools,
        max_tokens=max_tokens,
        temperature=spec.temperature,
        top_p=spec.top_p,
        thinking=thinking_param(spec.thinking, max_tokens, model.thinking),
        agent=spec.name,
    )


def system_blocks(persona: str, env: str) -> list[dict[str, Any]]:
    """The system prompt: the persona as written, then the environment block, each cached."""
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": persona.strip(), "cache_control": dict(_EPHEMERAL)}
    ]
    if env:
        blocks.append({"type": "text", "text": env, "cache_control": dict(_EPHEMERAL)})
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
