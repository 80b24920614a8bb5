"""An agent assembled from untrusted workspace files may not do more than the agent it replaces.

`limit_agent` compares the agent as the workspace would have it (its persona, its config entry)
with the agent the trusted layers alone give (the built-in or user agent of that name, or the
defaults for a new name), key by key as `agent.trust.keys` classifies them, and puts back the
trusted value wherever the workspace's would widen it. Each key put back is a `Refusal` naming
the file that set it: the workspace config when its `agents.NAME` entry has the key, else the
persona file; a rule names the file it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.permissions.models import PermissionRule
from agent.registry.schema import Defaults
from agent.registry.spec import AgentSpec
from agent.trust.keys import WORKSPACE_KEYS, weakens
from agent.trust.refusal import Refusal
from agent.trust.rule_limits import rule_key, rule_refusal


@dataclass(frozen=True, eq=False, repr=False)
class AgentOrigin:
    """Where the untrusted parts of one agent came from."""

    workspace: Path
    untrusted_files: frozenset[str]
    """Paths (as rule sources) of the workspace files that went into this agent."""
    persona: Path | None = None
    """The workspace persona that defined the agent (None: a trusted persona)."""
    config: Path | None = None
    """The workspace config whose `agents.NAME` entry applied."""
    entry_keys: frozenset[str] = frozenset()
    """The keys that entry set."""


def _delegation(spec: AgentSpec) -> tuple[bool, bool]:
    """(gets `task` as a root agent, gets it as a child), as `agent.orchestrator.link.may_delegate`
    decides."""
    root = spec.can_delegate if spec.can_delegate is not None else spec.mode in ("primary", "all")
    return root, spec.can_delegate is True


def _widens_delegation(spec: AgentSpec, baseline: AgentSpec) -> bool:
    mine, trusted = _delegation(spec), _delegation(baseline)
    return (mine[0] and not trusted[0]) or (mine[1] and not trusted[1])


def _effective(spec: AgentSpec, key: str, defaults: Defaults) -> Any:
    value = getattr(spec, key)
    if value is None and key in ("max_turns", "max_output_tokens"):
        return getattr(defaults, key)
    return value


class _Limiter:
    def __init__(self, name: str, origin: AgentOrigin, refusals: list[Refusal]) -> None:
        self.name, self.origin, self.refusals = name, origin, refusals

    def refuse(self, key: str, why: str, path: Path | None = None) -> None:
        origin = self.origin
        if path is None:
            if key in origin.entry_keys and origin.config is not None:
                path, key = origin.config, f"agents.{self.name}.{key}"
            else:
                path = origin.persona or origin.config or origin.workspace
        self.refusals.append(Refusal(path, key, why, origin.workspace, agent=self.name))


def limit_agent(
    spec: AgentSpec,
    baseline: AgentSpec,
    defaults: Defaults,
    origin: AgentOrigin,
    trusted_denies: Sequence[PermissionRule],
) -> tuple[AgentSpec, list[Refusal]]:
    """`spec` with every widening key put back to `baseline`'s value, and what was refused."""
    refusals: list[Refusal] = []
    limiter = _Limiter(spec.name, origin, refusals)
    changes: dict[str, Any] = {}
    for key in ("max_turns", "max_output_tokens", "verify", "network"):
        limit = WORKSPACE_KEYS[f"agents.*.{key}"]
        if weakens(limit, _effective(spec, key, defaults), _effective(baseline, key, defaults)):
            limiter.refuse(key, limit.why)
            changes[key] = getattr(baseline, key)
    extra = [t for t in spec.tools if t not in baseline.tools]
    if extra:
        limiter.refuse("tools", f"{WORKSPACE_KEYS['agents.*.tools'].why}: {', '.join(extra)}")
        changes["tools"] = [t for t in spec.tools if t in baseline.tools]
    if _widens_delegation(spec, baseline):
        limiter.refuse("can_delegate", WORKSPACE_KEYS["agents.*.can_delegate"].why)
        put_back = spec.model_copy(update={"can_delegate": baseline.can_delegate})
        widens = _widens_delegation(put_back, baseline)
        changes["can_delegate"] = False if widens else baseline.can_delegate
    rules: list[PermissionRule] = []
    for rule in spec.permission:
        why = rule_refusal(rule, trusted_denies) if rule.source in origin.untrusted_files else None
        if why is None:
            rules.append(rule)
        else:
            source = Path(rule.source)
            prefix = f"agents.{spec.name}.permission" if source == origin.config else "permission"
            limiter.refuse(rule_key(prefix, rule), why, source)
    changes["permission"] = rules
    return spec.model_copy(update=changes), refusals
