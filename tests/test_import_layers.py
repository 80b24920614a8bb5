"""The layers of docs/architecture.md, checked on the source: every import in `agent/` and `tools/`
(lazy ones, inside functions, included) goes down the layer order, or is one of the few named
exceptions below. A new import that goes up fails here with where it is; an exception that is no
longer there fails too, so this list and docs/architecture.md stay true.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

ORDER = [
    # the vocabulary: errors, events, transcript, paths, tool, tool_output
    "vocabulary",
    # config vocabulary the services share: the approver protocol and rules, the hooks block,
    # the config's schema and AgentSpec
    "permissions.models",
    "hooks.config",
    "registry.config",
    # services
    "hostgit",
    "hooks",
    "peers",
    "sandbox",
    "permissions",
    "model",
    "web",
    "trust",
    "terminal",
    "sessions",
    "registry",
    "skills",
    "prompt",
    "registry.report",
    "mcpclient",
    "context",
    # the built-in tools, then the loop, the assembly, delegation
    "tools",
    "loop",
    "runtime",
    "orchestrator",
    # front ends
    "api",
    "acp",
    "mcp",
    "headless",
    "demo",
    "chat",
    "cli",
    "__main__",
]
"""Lowest first: a module may import its own unit and the units before it."""

MODULE_UNITS = {
    "agent.permissions.models": "permissions.models",
    "agent.hooks.config": "hooks.config",
    "agent.registry.schema": "registry.config",
    "agent.registry.spec": "registry.config",
    "agent.registry.yaml_text": "registry.config",
    "agent.registry.config_report": "registry.report",
    "agent.api": "api",
    "agent.__main__": "__main__",
}
"""Modules whose unit is not their folder's (the two layers `registry/` holds, and the like)."""

EXCEPTIONS = {
    ("agent.tool", "agent.sandbox.policy"): "ToolContext carries the run's filesystem policy",
    ("agent.tool", "agent.sandbox.base"): "ToolContext carries the run's sandbox",
}
"""Imports that go up on purpose, each with why (docs/architecture.md, "Known back edges")."""


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    if module in MODULE_UNITS:
        return MODULE_UNITS[module]
    top, _, rest = module.partition(".")
    if top == "tools":
        return "tools"
    sub = rest.partition(".")[0]
    return sub if sub and (REPO_ROOT / "agent" / sub).is_dir() else "vocabulary"


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) of each import of `agent` or `tools` in the file."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "agent":  # `from agent import paths`: the module, not a name in it
                names = [f"agent.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(name, node.lineno) for name in names if name.split(".")[0] in ("agent", "tools")]
    return found


def upward_imports() -> dict[tuple[str, str], str]:
    """(importer, imported) -> where, for each import that goes up the order."""
    rank = {unit: i for i, unit in enumerate(ORDER)}
    found: dict[tuple[str, str], str] = {}
    for root in ("agent", "tools"):
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            importer = _module(path)
            for imported, line in _imports(path):
                if imported in ("agent", "tools"):
                    continue
                if rank[_unit(imported)] > rank[_unit(importer)]:
                    found[(importer, imported)] = f"{path.relative_to(REPO_ROOT)}:{line}"
    return found


def test_every_unit_is_placed() -> None:
    units = {_unit(_module(p)) for root in ("agent", "tools") for p in (REPO_ROOT / root).rglob("*.py")}
    assert units <= set(ORDER), f"place these in ORDER (docs/architecture.md): {units - set(ORDER)}"


def test_imports_go_down_the_layers() -> None:
    upward = upward_imports()
    new = {edge: where for edge, where in upward.items() if edge not in EXCEPTIONS}
    assert new == {}, "imports that go up a layer (importer, imported): where"
    assert set(EXCEPTIONS) <= set(upward), "an exception no longer exists: remove it here and in the docs"


def test_the_scan_sees_an_upward_import(tmp_path: Path) -> None:
    """The scan itself: a lazy import inside a function is found, and ranked by its unit."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from agent.cli.main import app\n    from agent import paths\n")
    assert _imports(source) == [("agent.cli.main", 2), ("agent.paths", 3)]
    assert ORDER.index(_unit("agent.cli.main")) > ORDER.index(_unit("agent.sessions.store"))
    assert _unit("agent.registry.spec") == "registry.config" and _unit("agent.events") == "vocabulary"
