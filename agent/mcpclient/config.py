"""One MCP server's definition, in the shape every source is read into, and `${VAR}` expansion.

Claude Code's `mcpServers` shape is the common one: `{name: {command, args, env}}` for a program
spoken to over stdio, `{name: {type: "http"|"sse", url, headers}}` for a remote server. Our own
`mcp_servers` (agents.yaml, the user's config, `.subagent/config.yaml`) uses it too, and so does
`--mcp-config` (`servers_from_claude`). Values are kept as written; `${VAR}` and
`${VAR:-default}` are expanded when the server starts (`expanded`), so an approval covers the
definition, not the values of the environment it happens to meet.
"""

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import ConfigError, McpServerError

Scope = Literal["user", "workspace", "editor"]
"""Who named the server: the user's own config, the repository, or the editor (ACP)."""

DEFAULT_CALL_TIMEOUT_S = 600.0
"""How long one tool call may take when the server's definition gives no `timeout` (Gemini CLI's
default; a call past it is cancelled on the server)."""

DEFAULT_START_TIMEOUT_S = 30.0
"""How long a server may take to start, and then to list its tools, when its definition gives no
start timeout (Claude Code's default `MCP_TIMEOUT`)."""

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class StdioServer(_Strict):
    """A program the runtime starts and speaks to over its stdin and stdout."""

    type: Literal["stdio"] = "stdio"
    command: str = Field(min_length=1)
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None


class RemoteServer(_Strict):
    """A server reached over streamable HTTP (`http`) or the older SSE transport (`sse`)."""

    type: Literal["http", "sse"]
    url: str = Field(min_length=1)
    headers: dict[str, str] = {}


Transport = Annotated[StdioServer | RemoteServer, Field(discriminator="type")]


class ServerDef(BaseModel):
    """A named server, where its definition was read, and whose it is."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    transport: Transport
    source: str
    """The file (or `editor`) that defined it, for the run's notice and `mcp-servers list`."""
    scope: Scope
    call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S
    """How long one of its tool calls may take (`timeout` in milliseconds, as Gemini CLI has it).
    Not part of the fingerprint: changing it asks for no new approval."""
    start_timeout_s: float = DEFAULT_START_TIMEOUT_S
    """How long it may take to start, and then to list its tools (opencode's `timeout`, or its
    `timeout.startup`). Not part of the fingerprint either."""

    def fingerprint(self) -> str:
        """A digest of the definition as written: an approval holds for exactly this definition."""
        text = json.dumps(self.transport.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(f"{self.name}\0{text}".encode()).hexdigest()


def parse_transport(raw: Any, where: str) -> StdioServer | RemoteServer:
    """One Claude-shaped entry (`{command, args, env}` or `{type, url, headers}`) as a transport.

    Raises:
        ConfigError: the entry is not a mapping of either shape (names `where`).
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: an MCP server is a mapping with `command` or `url`")
    entry = dict(raw)
    if entry.get("type") in (None, "stdio") and "url" not in entry:
        entry["type"] = "stdio"
    elif "type" not in entry:
        entry["type"] = "http"
    try:
        if entry["type"] == "stdio":
            return StdioServer.model_validate(entry)
        return RemoteServer.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        reason = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{where}.{key}: {reason}") from exc


def seconds_of_millis(millis: Any, where: str) -> float:
    """A timeout given in milliseconds (the peers' unit), in seconds.

    Raises:
        ConfigError: not a positive number (names `where`, the key).
    """
    if isinstance(millis, bool) or not isinstance(millis, int | float) or not 0 < millis < math.inf:
        raise ConfigError(f"{where}: a positive number of milliseconds, not {millis!r}")
    return millis / 1000


def call_timeout(raw: Any, where: str) -> tuple[Any, float]:
    """The entry without its `timeout` key, and the call timeout it gives (in seconds).

    Raises:
        ConfigError: `timeout` is not a positive number of milliseconds.
    """
    if not isinstance(raw, Mapping) or "timeout" not in raw:
        return raw, DEFAULT_CALL_TIMEOUT_S
    entry = dict(raw)
    return entry, seconds_of_millis(entry.pop("timeout"), f"{where}.timeout")


def check_name(name: str, where: str) -> str:
    """A server name the tool names can carry (`mcp__<server>__<tool>`).

    Raises:
        ConfigError: letters, digits, `_` and `-` only, at most 40.
    """
    if not _NAME.match(name) or "__" in name:
        raise ConfigError(f"{where}: MCP server name {name!r}: use letters, digits, `_` or `-` (no `__`)")
    return name


def servers_from_claude(block: Any, *, source: str, scope: Scope) -> list[ServerDef]:
    """Claude Code's `mcpServers` mapping (a `.mcp.json`, `--mcp-config`, our `mcp_servers`).

    Raises:
        ConfigError: a malformed entry, naming `source` and the server.
    """
    if block is None:
        return []
    if not isinstance(block, Mapping):
        raise ConfigError(f"{source}: mcpServers must be a mapping of server names")
    servers = []
    for name, raw in block.items():
        where = f"{source}: mcpServers.{name}"
        entry, timeout_s = call_timeout(raw, where)
        servers.append(
            ServerDef(
                name=check_name(str(name), where),
                transport=parse_transport(entry, where),
                source=source,
                scope=scope,
                call_timeout_s=timeout_s,
            )
        )
    return servers


def expand(text: str, env: Mapping[str, str], where: str) -> str:
    """`${VAR}` and `${VAR:-default}` replaced from `env`, as Claude Code does.

    Raises:
        McpServerError: a variable without a default is not set.
    """

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise McpServerError(where, f"${{{name}}} is not set in the environment")
            return default
        return value

    return _VAR.sub(one, text)


def expanded(server: ServerDef, env: Mapping[str, str]) -> StdioServer | RemoteServer:
    """The server's transport with every `${VAR}` of its strings expanded from `env`."""
    t = server.transport
    name = server.name
    if isinstance(t, StdioServer):
        return t.model_copy(
            update={
                "command": expand(t.command, env, name),
                "args": [expand(a, env, name) for a in t.args],
                "env": {k: expand(v, env, name) for k, v in t.env.items()},
                "cwd": expand(t.cwd, env, name) if t.cwd is not None else None,
            }
        )
    return t.model_copy(
        update={
            "url": expand(t.url, env, name),
            "headers": {k: expand(v, env, name) for k, v in t.headers.items()},
        }
    )
