"""An untrusted workspace's config file, less every key that would widen the trusted config.

The file's keys (as written: `model_dump(exclude_unset=True)`) are walked against
`agent.trust.keys.WORKSPACE_KEYS` and compared with the value the trusted layers give. A key that
weakens is left out and becomes a `Refusal`; the rest is kept, deny rules included. `agents`
entries are kept whole here: an agent is judged once it is assembled (`agent.trust.agent_limits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.permissions.models import PermissionRule
from agent.registry.schema import RegistryConfig
from agent.trust.keys import limit_for, weakens
from agent.trust.refusal import Refusal
from agent.trust.rule_limits import filter_block


class _Walk:
    def __init__(self, path: Path, workspace: Path) -> None:
        self.path, self.workspace = path, workspace
        self.refusals: list[Refusal] = []

    def refuse(self, parts: tuple[str, ...], why: str) -> None:
        self.refusals.append(Refusal(self.path, ".".join(parts), why, self.workspace))

    def walk(self, node: dict[str, Any], trusted: Any, parts: tuple[str, ...]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in node.items():
            here = (*parts, str(key))
            old = trusted.get(key) if isinstance(trusted, dict) else None
            limit = limit_for(here)
            if limit is None and isinstance(value, dict):
                inner = self.walk(value, old, here)
                if inner or not value:  # a block left empty by refusals must not create an entry
                    kept[key] = inner
            elif limit is None:
                self.refuse(here, "no one has decided what this key may do; it is refused to be safe")
            elif weakens(limit, value, old):
                self.refuse(here, limit.why)
            else:
                kept[key] = value
        return kept


def filter_config(
    raw: dict[str, Any],
    trusted: RegistryConfig,
    *,
    path: Path,
    workspace: Path,
    trusted_denies: Sequence[PermissionRule],
) -> tuple[dict[str, Any], list[Refusal]]:
    """The keys of `raw` (one untrusted config file) that may apply, and what was refused.

    Args:
        raw: The file's keys as written.
        trusted: The config the trusted layers (built-in, user) give.
        path: The file, for the refusal lines.
        workspace: The untrusted folder (the refusal says how to trust it).
        trusted_denies: The deny rules of the trusted layers' `permission` blocks: an `ask` that
            would reopen one of them is refused.
    """
    walk = _Walk(path, workspace)
    rest = {k: v for k, v in raw.items() if k not in ("agents", "permission")}
    kept = walk.walk(rest, trusted.model_dump(by_alias=True), ())
    if "agents" in raw:
        kept["agents"] = raw["agents"]
    if "permission" in raw:
        block, refused = filter_block(raw["permission"], trusted_denies)
        for key, why in refused:
            walk.refuse(("permission", key) if key else ("permission",), why)
        if block is not None:
            kept["permission"] = block
    return kept, walk.refusals
