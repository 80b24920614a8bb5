"""The built-in tools by name, each module imported at the tool's first use.

A run sends every tool's definition with its first request and reads each tool's name, kind and
whether it changes files; none of that needs the tool's module (57 M instructions for the seven
and their helpers, 3.5 % of a run's way to its first request). `load_tool` hands out a
`DeferredTool` whose class attributes come from tools/schemas.json (generated from the real classes
by `python -m tools.schemas`, checked by a test byte for byte); the real tool is made at its first
call, or at the first question only it can answer (its input model, its permissions, its title).
"""

from __future__ import annotations

import functools
import importlib
import os
from pathlib import Path
from typing import Any, get_args

from agent.errors import ConfigError, ToolFailure
from agent.events import ToolKindName
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult, stored_entry
from tools.schemas import SCHEMA_FILE

TOOL_CLASSES: dict[str, str] = {
    "read": "tools.read:ReadTool",
    "edit": "tools.edit:EditTool",
    "write": "tools.write:WriteTool",
    "grep": "tools.grep:GrepTool",
    "glob": "tools.glob:GlobTool",
    "bash": "tools.bash:BashTool",
    "patch": "tools.patch:PatchTool",
}

_KINDS: dict[str, ToolKindName] = {kind: kind for kind in get_args(ToolKindName)}


def tool_class(name: str) -> type[Tool[Any]]:
    """The class of the built-in tool called `name`, its module imported.

    Raises:
        ConfigError: no built-in tool has that name.
    """
    spec = TOOL_CLASSES.get(name)
    if spec is None:
        raise ConfigError(f"unknown tool {name!r}; built-in tools: {', '.join(TOOL_CLASSES)}")
    module_name, class_name = spec.split(":")
    cls: type[Tool[Any]] = getattr(importlib.import_module(module_name), class_name)
    return cls


class DeferredTool(Tool[Any]):
    """A built-in tool whose module is imported at its first use; until then its class attributes
    are the stored ones. `run_call` stays `Tool`'s (it calls `self.run`), so a wrapper a caller
    puts on the instance's `run` (the orchestrator's child) stays in the way."""

    stored_schemas = SCHEMA_FILE

    @functools.cached_property
    def _tool(self) -> Tool[Any]:
        try:
            return tool_class(self.name)()
        except AttributeError as exc:  # raised from here, Python would ask __getattr__("_tool") and lose it
            raise RuntimeError(f"cannot load the built-in tool {self.name!r}: {exc!r}") from exc

    def __getattr__(self, attr: str) -> Any:
        """What the stored entry does not hold (`input_model`) comes from the real tool."""
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._tool, attr)

    @classmethod
    def generated_schema(cls) -> dict[str, Any]:
        return tool_class(cls.name).generated_schema()

    async def run(self, input: ToolInput, ctx: ToolContext) -> ToolResult:
        return await self._tool.run(input, ctx)

    def permission_requests(self, input: ToolInput, ctx: ToolContext) -> list[PermissionRequest]:
        return self._tool.permission_requests(input, ctx)

    def title(self, input: ToolInput) -> str:
        return self._tool.title(input)

    def preview(self, input: ToolInput, ctx: ToolContext) -> str:
        return self._tool.preview(input, ctx)

    def locations(self, input: ToolInput, ctx: ToolContext) -> list[str]:
        return self._tool.locations(input, ctx)

    def announced(self, ctx: ToolContext) -> None:
        self._tool.announced(ctx)

    def conflict_key(self, input: ToolInput, ctx: ToolContext) -> str | None:
        return self._tool.conflict_key(input, ctx)


@functools.cache
def _deferred_class(name: str) -> type[DeferredTool]:
    entry = stored_entry(SCHEMA_FILE, name)
    kind = _KINDS[entry["kind"]]

    class Deferred(DeferredTool):
        pass

    Deferred.__name__ = Deferred.__qualname__ = f"Deferred[{name}]"
    Deferred.name = name
    Deferred.description = entry["definition"]["description"]
    Deferred.kind = kind
    Deferred.mutates = bool(entry["mutates"])
    return Deferred


def load_tool(name: str) -> Tool[Any]:
    """The tool called `name`, its module not imported yet.

    Raises:
        ConfigError: no built-in tool has that name.
    """
    if name not in TOOL_CLASSES:
        raise ConfigError(f"unknown tool {name!r}; built-in tools: {', '.join(TOOL_CLASSES)}")
    return _deferred_class(name)()


def load_tools(names: list[str]) -> list[Tool[Any]]:
    """The named tools, in the order given, each once."""
    return [load_tool(name) for name in dict.fromkeys(names)]


def sandbox_programs(names: list[str]) -> list[Path]:
    """The runtime's own programs that the named tools run inside the sandbox (ripgrep under grep
    and glob): the run's policy keeps them readable wherever they are installed, also in a part of
    HOME the policy hides (a pipx venv)."""
    if not {"grep", "glob"} & set(names):
        return []
    from tools._rg_binary import find_rg

    try:
        return [Path(os.path.realpath(find_rg()))]
    except ToolFailure:
        return []  # grep and glob say so themselves
