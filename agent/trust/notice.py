"""What confines a run, told at its start: `run_boundary` fills the `session_started` event's
fields (`agent.events.RunBoundary`, whose `notices()` are the lines every front end shows).
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
