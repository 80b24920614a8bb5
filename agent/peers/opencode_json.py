"""opencode's `opencode.json`: the one reader of the file, for the config layers and whoever else
needs a block of it (the MCP client reads `mcp` through `read_opencode_json`).

For the config layers: `permission` is already our rule form (ours is opencode's); an
`agent.NAME` block gives its `permission` and `tools` to the agent of that name; `command` is
read by `agent.prompt.custom_commands`, `mcp` by `agent.mcpclient`. Everything else is listed as
not applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.errors import RegistryError
from agent.peers.layer_content import LayerContent, read_json_object

OPENCODE_JSON = "opencode.json"
_AGENT_KEYS = ("permission", "tools")


def read_opencode_json(workspace: Path) -> dict[str, Any] | None:
    """The workspace's `opencode.json` as written; None when there is none.

    Raises:
        RegistryError: the file is not a JSON object.
    """
    path = workspace / OPENCODE_JSON
    if not path.is_file():
        return None
    return read_json_object(path)[0]


def _agents(path: Path, agents: Any, out: LayerContent) -> None:
    if not isinstance(agents, dict):
        raise RegistryError(path, "must be an object of agent names", key="agent")
    entries: dict[str, Any] = {}
    for name, block in agents.items():
        if not isinstance(block, dict):
            raise RegistryError(path, "must be an object", key=f"agent.{name}")
        kept = {key: block[key] for key in _AGENT_KEYS if key in block}
        if kept:
            entries[str(name)] = kept
        out.unapplied += [
            f"agent.{name}.{key}: not read by subagent (define the agent in .opencode/agent/{name}.md)"
            for key in block
            if key not in _AGENT_KEYS
        ]
    if entries:
        out.raw["agents"] = entries


def opencode_config(path: Path) -> LayerContent:
    """Translate `opencode.json` for the config layers.

    Raises:
        RegistryError: the file, or its `agent` block, is malformed.
    """
    data, text = read_json_object(path)
    out = LayerContent(text=text)
    if "permission" in data:
        out.raw["permission"] = data["permission"]
    if "agent" in data:
        _agents(path, data["agent"], out)
    out.unapplied += [
        f"{key}: not read by subagent"
        for key in data
        if key not in ("permission", "agent", "command", "mcp", "$schema")
    ]
    return out
