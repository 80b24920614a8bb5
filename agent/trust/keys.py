"""The one table: for every config key, what an untrusted workspace may set.

Paths are dotted, with `*` for a name under `models`, `aliases` and `agents`. `agents.*.KEY`
entries apply both to a workspace config's agent entries and to workspace personas (their
frontmatter keys have the same names). A test walks the config schema and fails for a field with
no entry here, so a new key cannot ship without someone deciding.

Kinds:
- `free`: any value (it changes what the agent does, not what it may do);
- `no_higher` / `no_lower`: a number (or each number of a mapping) may only go down / up;
  `None` counts as unlimited for `no_higher` and as nothing (free) for `no_lower`;
- `ranked`: one of `order`, tightest first; only as tight or tighter;
- `subset`: a list whose items must all be in the trusted value already;
- `no_true`: may turn it off, never on;
- `same`: only the trusted value (a command the repository would run without asking);
- `rules`: permission rules; `deny` always, `ask` unless it would reopen a trusted `deny`,
  never `allow` (`agent.trust.rule_limits`);
- `tools`: only tools the trusted agent already has;
- `delegation`: no `task` tool the trusted agent did not have (`can_delegate`, or a `mode` that
  makes an agent primary);
- `prompt_file`: a file inside the folder of the config that names it (`agent.trust.confine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal[
    "free",
    "no_higher",
    "no_lower",
    "ranked",
    "subset",
    "no_true",
    "same",
    "rules",
    "tools",
    "delegation",
    "prompt_file",
]


@dataclass(frozen=True, eq=False, repr=False)
class KeyLimit:
    """What an untrusted workspace may do with one key."""

    kind: Kind
    why: str = ""
    """What a weaker value would do, for the refusal line."""
    order: tuple[str, ...] = ()
    """For `ranked`: the values, tightest first."""


FREE = KeyLimit("free")
_LONGER = "tools running longer than your config allows"
_OUTSIDE = "bash and the tools could write outside the workspace"

WORKSPACE_KEYS: dict[str, KeyLimit] = {
    "version": FREE,
    # --- defaults -----------------------------------------------------------------------------
    "defaults.model": FREE,
    "defaults.max_turns": KeyLimit("no_higher", "more model turns than your config allows"),
    "defaults.max_output_tokens": KeyLimit("no_higher", "longer (costlier) replies than your config allows"),
    "defaults.max_budget_usd": KeyLimit("no_higher", "a larger spending limit than your config sets"),
    "defaults.permission_mode": KeyLimit(
        "ranked", "fewer permission asks than your config", ("plan", "default", "accept-edits", "bypass")
    ),
    "defaults.tool_timeouts.bash": KeyLimit("no_higher", _LONGER),
    "defaults.tool_timeouts.bash_max": KeyLimit("no_higher", _LONGER),
    "defaults.worktrees": FREE,  # the same files either way; only how fast they are made
    "defaults.max_parallel_tasks": KeyLimit("no_higher", "more subagents at once than your config allows"),
    "defaults.max_depth": KeyLimit("no_higher", "deeper delegation than your config allows"),
    "defaults.verify_rounds": KeyLimit("no_higher", "more verify runs than your config allows"),
    "defaults.ask_timeout_s": FREE,
    "defaults.sandbox.kind": KeyLimit("ranked", "bash would run without a sandbox", ("bwrap", "none")),
    "defaults.sandbox.extra_roots": KeyLimit("subset", _OUTSIDE),
    "defaults.sandbox.max_processes": KeyLimit("no_higher", "a higher process limit for bash"),
    "defaults.sandbox.max_memory_mb": KeyLimit("no_higher", "a higher memory limit for bash"),
    "defaults.sandbox.home_visible": KeyLimit("subset", "more of your home folder readable to bash"),
    "defaults.sandbox.max_file_mb": KeyLimit("no_higher", "a larger file size limit for bash"),
    "defaults.sandbox.tmp_size_mb": KeyLimit("no_higher", "a larger /tmp and /dev/shm for bash"),
    "defaults.sandbox.env": KeyLimit("subset", "more of your environment passed into bash"),
    "defaults.context_reserve_tokens": FREE,
    "defaults.prompt_caching": FREE,
    "defaults.elide_tool_outputs": FREE,
    # --- models and aliases -------------------------------------------------------------------
    "models.*.context_window": FREE,
    "models.*.max_output_tokens": FREE,
    # A price the workspace sets could only be compared with genai-prices' table, which is not
    # loaded when the config is: any price of its own is refused (a lower one would make the budget
    # count less than is spent).
    "models.*.price": KeyLimit("same", "a price the repository chose would change what the budget counts"),
    "models.*.thinking": FREE,
    "models.*.server_compaction": FREE,
    "aliases.*": FREE,
    # --- rules for every agent ----------------------------------------------------------------
    "permission": KeyLimit("rules"),
    "hooks": KeyLimit("same", "commands the repository chose would run on your machine without asking"),
    # --- agents (registry entries and persona frontmatter) ------------------------------------
    "agents.*.prompt": KeyLimit("prompt_file", "a prompt file is sent to the model API"),
    "agents.*.description": FREE,
    "agents.*.mode": FREE,  # what a mode change gives (the `task` tool) is `delegation`'s to judge
    "agents.*.model": FREE,
    "agents.*.temperature": FREE,
    "agents.*.tools": KeyLimit("tools", "tools the agent it replaces does not have"),
    "agents.*.permission": KeyLimit("rules"),
    "agents.*.max_turns": KeyLimit("no_higher", "more model turns than your config allows"),
    "agents.*.max_output_tokens": KeyLimit("no_higher", "longer (costlier) replies than your config allows"),
    "agents.*.thinking": FREE,
    "agents.*.verify": KeyLimit("same", "a command the repository chose would run without asking"),
    "agents.*.network": KeyLimit("no_true", "bash could reach the network"),
    "agents.*.can_delegate": KeyLimit("delegation", "the agent could start subagents"),
    "agents.*.disable": FREE,
    # --- MCP servers --------------------------------------------------------------------------
    # Kept as written: a server the workspace names starts only once the user approves exactly
    # that definition or trusts the folder (agent.mcpclient.sources), which is the gate here.
    "mcp_servers.*": FREE,
}
"""Every key of `agent.registry.schema.RegistryConfig`, classified (see the module docstring)."""

_NAMED = ("models", "aliases", "agents", "mcp_servers")


def limit_for(parts: tuple[str, ...]) -> KeyLimit | None:
    """The entry for a concrete key path (`("models", "claude-x", "price")`), or None."""
    general = (parts[0], "*", *parts[2:]) if len(parts) > 1 and parts[0] in _NAMED else parts
    return WORKSPACE_KEYS.get(".".join(general))


def _numbers(value: Any) -> dict[str, float | None]:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, int | float) or v is None}
    return {"": value}


def weakens(limit: KeyLimit, value: Any, trusted: Any) -> bool:
    """Whether `value` for a key of this kind is weaker than `trusted` (the value without the
    workspace). Only the plain kinds; `rules`, `tools`, `delegation` and `prompt_file` have their
    own modules."""
    kind = limit.kind
    if kind == "no_higher":
        if value is None:
            return trusted is not None
        return trusted is not None and value > trusted
    if kind == "no_lower":
        if value is None:
            return trusted is not None
        old = _numbers(trusted) if trusted is not None else {}
        return any(
            v is None or (old.get(k) is not None and v < old[k])  # type: ignore[operator]
            for k, v in _numbers(value).items()
        )
    if kind == "ranked":
        return limit.order.index(value) > limit.order.index(trusted)
    if kind == "subset":
        return any(item not in (trusted or []) for item in value or [])
    if kind == "no_true":
        return bool(value) and not trusted
    if kind == "same":
        return value is not None and value != trusted
    return False
