"""What a run says at its start about what confines it: the same lines on every front end.

`run_boundary` fills the `session_started` event's fields (`agent.events.RunBoundary`);
`notice_lines` turns them into the lines the text view, chat, ACP and MCP show. Nothing is said
when bash is sandboxed without network and no workspace key was refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.events import RunBoundary, SandboxState
from agent.registry.spec import AgentSpec


def run_boundary(
    spec: AgentSpec, sandbox: Any, kind: str, registry: Any, refused: Sequence[str] = ()
) -> RunBoundary:
    """The boundary of a run of `spec`.

    Args:
        spec: The agent.
        sandbox: The sandbox bash got (None: none could be made, or the agent has no bash).
        kind: The configured sandbox kind (`bwrap` or `none`).
        registry: The registry the agent came from (a stand-in without trust fields counts as
            trusted with nothing refused).
        refused: More refusal lines of this run (the `allowed-tools` of an untrusted workspace's
            custom command).
    """
    state: SandboxState | None
    if "bash" not in spec.tools:
        state = None
    elif sandbox is None:
        state = "unavailable"
    else:
        state = "none" if kind == "none" else "bwrap"
    refusals = getattr(registry, "refusals_for", None)
    return RunBoundary(
        sandbox=state,
        network=state == "none" or (state == "bwrap" and spec.network),
        trusted=bool(getattr(registry, "trusted", True)),
        refused=[*(str(r) for r in refusals(spec.name)), *refused] if refusals is not None else [*refused],
    )


def notice_lines(boundary: RunBoundary) -> list[str]:
    """The warnings a person must see before the run does anything (empty when there are none)."""
    lines: list[str] = []
    if boundary.sandbox == "none":
        lines.append(
            "bash runs WITHOUT a sandbox (`sandbox: {kind: none}`): its commands can read and "
            "change anything your user can"
        )
    if boundary.network:
        why = "" if boundary.sandbox == "none" else " (`network: true`)"
        lines.append(f"bash can reach the network{why}")
    lines += [f"refused: {line}" for line in boundary.refused]
    return lines
