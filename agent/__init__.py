"""subagent: a runtime for coding agents defined as markdown personas.

The public Python API (imported on first use, so `import agent` stays cheap):

    import asyncio, agent
    final = asyncio.run(agent.run("add a /health endpoint", agent="backend-engineer", cwd="."))
    results = asyncio.run(agent.dispatch("tasks.yaml", cwd="."))

`agent.run_events(agent.RunOptions(...))` is the event stream both are built on; `agent.run_agent(prompt,
**options)` is its keyword form.
"""

from typing import Any

__version__ = "0.1.0"

DEFAULT_AGENT = "orchestrator"
"""The agent a run gets when none is named (CLI, Python API, ACP, MCP)."""

__all__ = [
    "DispatchReport",
    "RunOptions",
    "SubtaskResult",
    "SubtaskSpec",
    "VerifyResult",
    "__version__",
    "dispatch",
    "run",
    "run_agent",
    "run_events",
]

_LAZY = {
    "DispatchReport": "agent.orchestrator.dispatch_file",
    "RunOptions": "agent.runtime.options",
    "SubtaskResult": "agent.orchestrator.base",
    "SubtaskSpec": "agent.orchestrator.base",
    "VerifyResult": "agent.orchestrator.base",
    "dispatch": "agent.api",
    "run": "agent.api",
    "run_agent": "agent.api",
    "run_events": "agent.api",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
