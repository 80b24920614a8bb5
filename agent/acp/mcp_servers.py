"""The MCP servers an editor passes in `session/new` (and `session/load`, `session/resume`), as the
runtime's server definitions: trusted (the editor is the user's), started by the session's first
turn and kept until it closes.

ACP's shapes: `{name, command, args, env: [{name, value}]}` for stdio and `{type: "http"|"sse",
name, url, headers: [{name, value}]}`. A name the tool names cannot carry has its other characters
replaced by `_`.
"""

from __future__ import annotations

import re
from typing import Any

from agent.mcpclient.config import RemoteServer, ServerDef, StdioServer

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _pairs(items: Any) -> dict[str, str]:
    return {str(_get(i, "name")): str(_get(i, "value")) for i in items or []}


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def _name(raw: str) -> str:
    return _UNSAFE.sub("_", raw).replace("__", "_")[:40] or "server"


def editor_servers(servers: Any) -> list[ServerDef]:
    """ACP `mcpServers` (SDK models or plain dicts) as server definitions of scope `editor`."""
    found: list[ServerDef] = []
    for item in servers or []:
        kind = _get(item, "type")
        transport: StdioServer | RemoteServer
        if kind in ("http", "sse"):
            transport = RemoteServer(
                type=kind, url=str(_get(item, "url")), headers=_pairs(_get(item, "headers"))
            )
        elif _get(item, "command"):
            args = [str(a) for a in _get(item, "args") or []]
            transport = StdioServer(
                command=str(_get(item, "command")), args=args, env=_pairs(_get(item, "env"))
            )
        else:
            continue  # a transport this agent does not announce (`acp`): the editor was told so
        found.append(ServerDef(name=_name(str(_get(item, "name"))), transport=transport, source="editor",
                               scope="editor"))  # fmt: skip
    return found
