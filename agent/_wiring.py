"""The runtime's collaborators, behind one small seam so the loop can be assembled without them.

`default_parts()` imports the real modules lazily (registry, tools, sandbox, permission gate,
session store, checkpoints). A module that is missing from this build makes the function that
needs it raise a ConfigError naming the module, instead of failing at import time. Tests and
embedders pass their own `RuntimeParts`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent._tool_exec import Gate
from agent.errors import ConfigError
from agent.permissions.models import Approver, PermissionRule
from agent.sandbox.base import Sandbox
from agent.sessions.base import SessionStore
from tools.base import Tool

Snapshot = Callable[[str], Awaitable[str]]
"""`await snapshot(label) -> commit sha` of the workspace."""


def import_attr(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise ConfigError(
            f"{module} is not part of this build ({exc}); it provides {name}, which `subagent run` needs"
        ) from exc


@dataclasses.dataclass(frozen=True)
class RuntimeParts:
    """Factories for everything `run_agent` assembles around the loop."""

    load_registry: Callable[[Path], Any]
    """cwd -> an AgentRegistry (`.config`: RegistryConfig, `.get(name)`: AgentSpec)."""
    load_tools: Callable[[list[str]], list[Tool[Any]]]
    make_sandbox: Callable[[Any, Path, bool], Sandbox | None]
    make_gate: Callable[[list[PermissionRule], str, Approver, float], Gate]
    open_store: Callable[[], SessionStore | None]
    repair: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    """Messages of an interrupted session -> a transcript the API accepts (no dangling tool_use)."""
    make_snapshot: Callable[[Path], Snapshot | None]
    headless_approver: Callable[[], Approver]
    """Who answers asks when the caller named nobody: a policy that denies (never a hang)."""


def _load_registry(cwd: Path) -> Any:
    return import_attr("agent.registry", "load_registry_for")(cwd)


def _load_tools(names: list[str]) -> list[Tool[Any]]:
    loaded: list[Tool[Any]] = import_attr("tools.registry", "load_tools")(names)
    return loaded


def _make_sandbox(config: Any, workspace: Path, network: bool) -> Sandbox | None:
    sandbox: Sandbox = import_attr("agent.sandbox.probe", "make_sandbox")(config, workspace, network)
    return sandbox


def _make_gate(rules: list[PermissionRule], mode: str, approver: Approver, ask_timeout_s: float) -> Gate:
    gate: Gate = import_attr("agent.permissions.gate", "PermissionGate")(rules, mode, approver, ask_timeout_s)
    return gate


def _open_store() -> SessionStore | None:
    store: SessionStore = import_attr("agent.sessions.store", "SqliteSessionStore")()
    return store


def _repair(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    repaired = import_attr("agent.sessions.repair", "repair_transcript")(messages)  # a RepairResult
    return list(repaired.messages)


def _make_snapshot(workspace: Path) -> Snapshot | None:
    repo = import_attr("agent.sessions.checkpoints", "ShadowRepo")(workspace)

    async def snapshot(label: str) -> str:
        sha: str = await asyncio.to_thread(repo.snapshot, label)
        return sha

    return snapshot


def _headless_approver() -> Approver:
    approver: Approver = import_attr("agent.permissions.approvers", "PolicyApprover")("deny")
    return approver


def default_parts() -> RuntimeParts:
    """The real collaborators, imported when first used."""
    return RuntimeParts(
        load_registry=_load_registry,
        load_tools=_load_tools,
        make_sandbox=_make_sandbox,
        make_gate=_make_gate,
        open_store=_open_store,
        repair=_repair,
        make_snapshot=_make_snapshot,
        headless_approver=_headless_approver,
    )
