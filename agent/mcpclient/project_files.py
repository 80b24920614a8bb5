"""The MCP servers a repository names in the peers' project files: `.mcp.json` (Claude Code) and
the `mcp` block of `opencode.json` (opencode).

Only the MCP part of these files is read here: `opencode.json` is read by its one reader,
`agent.peers.opencode_json.read_opencode_json`, whose other blocks (permissions, agents, commands)
are other modules'. A file that is not there (or not a file: a FIFO, a folder, the sandbox's
stand-in) names no server; one that does not parse is a `ConfigError` naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.mcpclient.config import (
    RemoteServer,
    ServerDef,
    StdioServer,
    check_name,
    seconds_of_millis,
    servers_from_claude,
)
from agent.peers.layer_content import read_json_object
from agent.peers.opencode_json import OPENCODE_JSON, read_opencode_json
from agent.sandbox._placeholder import is_placeholder
from agent.trust.confine import not_regular

CLAUDE_FILE = ".mcp.json"


def _read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path` (read as the peers' settings files are); None when absent, or
    only the sandbox's stand-in for it (`agent.sandbox._placeholder`).

    Raises:
        ConfigError: not a regular file, or not a JSON object (RegistryError names the line).
    """
    if (not path.exists() and not path.is_symlink()) or is_placeholder(path):
        return None
    if problem := not_regular(path):
        raise ConfigError(f"{path}: {problem}")
    return read_json_object(path)[0]


def claude_servers(workspace: Path) -> list[ServerDef]:
    """The servers of the workspace's `.mcp.json` (`{"mcpServers": {...}}`).

    Raises:
        ConfigError: the file or one of its servers is malformed (file and server named).
    """
    path = workspace / CLAUDE_FILE
    raw = _read_json(path)
    if raw is None:
        return []
    return servers_from_claude(raw.get("mcpServers"), source=str(path), scope="workspace")


def _opencode_transport(raw: Any, where: str) -> StdioServer | RemoteServer | None:
    """One opencode entry (`type: local|remote`); None when `enabled: false`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: an MCP server is an object with `type`")
    if raw.get("enabled", True) is False:
        return None
    kind = raw.get("type")
    if kind == "local":
        command = raw.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
            raise ConfigError(f"{where}.command: a list of strings, the program first")
        env = raw.get("environment") or {}
        if not isinstance(env, dict):
            raise ConfigError(f"{where}.environment: an object of strings")
        return StdioServer(command=command[0], args=command[1:], env={str(k): str(v) for k, v in env.items()})
    if kind == "remote":
        url, headers = raw.get("url"), raw.get("headers") or {}
        if not isinstance(url, str) or not isinstance(headers, dict):
            raise ConfigError(f"{where}: a remote server needs a `url` string (and `headers` an object)")
        return RemoteServer(type="http", url=url, headers={str(k): str(v) for k, v in headers.items()})
    raise ConfigError(f"{where}.type: `local` or `remote`, not {kind!r}")


def _opencode_timeouts(raw: dict[str, Any], where: str) -> dict[str, float]:
    """opencode's `timeout` as ServerDef fields: a number is how long the server may take to start
    and list its tools (opencode: "for fetching tools"); its newer `{startup, request}` gives the
    start timeout and how long each request after it (a tool call) may take. All in milliseconds.

    Raises:
        ConfigError: not a positive number, or an object with other keys (names the key).
    """
    value = raw.get("timeout")
    if value is None:
        return {}
    if not isinstance(value, dict):
        return {"start_timeout_s": seconds_of_millis(value, f"{where}.timeout")}
    if unknown := sorted(set(value) - {"startup", "request"}):
        raise ConfigError(
            f"{where}.timeout.{unknown[0]}: unknown key (opencode's are `startup` and `request`)"
        )
    fields = {"startup": "start_timeout_s", "request": "call_timeout_s"}
    return {fields[key]: seconds_of_millis(millis, f"{where}.timeout.{key}") for key, millis in value.items()}


def opencode_servers(workspace: Path) -> list[ServerDef]:
    """The enabled servers of the workspace's `opencode.json` `mcp` block.

    Raises:
        ConfigError: the file or one of its servers is malformed (file and server named).
    """
    path = workspace / OPENCODE_JSON
    block = (read_opencode_json(workspace) or {}).get("mcp")
    if block is None:
        return []
    if not isinstance(block, dict):
        raise ConfigError(f"{path}: mcp must be an object of server names")
    servers = []
    for name, entry in block.items():
        where = f"{path}: mcp.{name}"
        transport = _opencode_transport(entry, where)
        if transport is not None:
            servers.append(
                ServerDef(
                    name=check_name(str(name), where),
                    transport=transport,
                    source=str(path),
                    scope="workspace",
                    **_opencode_timeouts(entry, where),
                )
            )
    return servers


def servers_from_mcp_config(value: str) -> list[ServerDef]:
    """Claude Code's `--mcp-config` value: a JSON file's path or JSON text, `{"mcpServers": {...}}`.

    The servers are the caller's (scope `user`): pass them to `run_agent(mcp_servers=...)`.

    Raises:
        ConfigError: neither a readable file nor JSON text of that shape.
    """
    text = value.strip()
    source = "--mcp-config"
    if not text.startswith("{"):
        path = Path(value).expanduser()
        if (raw := _read_json(path)) is None:
            raise ConfigError(f"--mcp-config: {value} is neither JSON text nor a file")
        source = str(path)
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--mcp-config: not JSON ({exc})") from exc
    if not isinstance(raw, dict) or "mcpServers" not in raw:
        raise ConfigError(f"{source}: expected an object with `mcpServers`")
    return servers_from_claude(raw["mcpServers"], source=source, scope="user")
