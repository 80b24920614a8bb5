"""The public Python API of `agent`, pinned: what it exports, each function's signature, each
model's fields; `import agent` stays light; and README's Python examples run as written.

A change here is a change to what embedders call: make it on purpose, update this file with it,
and say so in the changelog of the release.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import agent
from tests.conftest import REPO_ROOT, subprocess_env
from tests.model import sse
from tests.model.messages_server import MessagesServer

EXPORTED = [
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

SIGNATURES = {
    "run": (
        "(prompt: 'str', *, agent: 'str' = 'orchestrator', cwd: 'Path | str' = '.', **options: 'Any') "
        "-> 'ResultEvent'"
    ),
    "dispatch": (
        "(tasks: 'list[SubtaskSpec] | Path | str', *, cwd: 'Path | str' = '.', model_client: 'Any' = None, "
        "approver: 'Approver | None' = None, permission_mode: 'PermissionMode | None' = None, "
        "on_event: 'EventSink | None' = None, trust: 'bool' = False) -> 'list[SubtaskResult]'"
    ),
    "run_agent": "(prompt: 'str | None', **fields: 'Any') -> 'AsyncGenerator[Event]'",
    "run_events": "(options: 'RunOptions') -> 'AsyncGenerator[Event]'",
}  # fmt: skip

FIELDS = {
    "DispatchReport": {"ok": "required", "results": "required"},
    "VerifyResult": {
        "command": "required", "passed": "required", "exit_code": "required", "output": "required",
        "rounds": "required",
    },
    "RunOptions": {
        "prompt": "None", "agent": "'orchestrator'", "cwd": "required", "model": "None",
        "fallback_model": "None", "max_turns": "None",
        "permission_mode": "None", "resume": "None", "continue_latest": "False", "compact_only": "False",
        "fork": "False", "session_id": "None", "max_budget_usd": "None",
        "parent_tool_use_id": "None", "parent_model": "None",
        "trust": "False", "approver": "None", "always": "None", "model_client": "None", "cancel": "None",
        "parts": "None", "editor": "None", "mcp_servers": "()", "mcp_kept": "None", "grant": "None",
        "parent": "None",
    },
    "SubtaskSpec": {
        "id": "required", "agent": "required", "prompt": "required", "description": "''", "cwd": "None",
        "commit": "None", "verify": "None", "model": "None", "max_turns": "None", "permission_mode": "None",
    },
    "SubtaskResult": {
        "id": "required", "agent": "required", "status": "required", "result": "required",
        "session_id": "None", "files_changed": "[]", "patch": "''", "conflicts": "[]", "branch": "None",
        "verification": "None",
        "usage": (
            "Usage(input_tokens=0, output_tokens=0, cache_read_input_tokens=0, cache_creation_input_tokens=0)"
        ),
        "total_cost_usd": "0.0", "num_turns": "0", "duration_ms": "0.0", "error": "None",
        "permission_denials": "[]", "transcript_ref": "None",
    },
}  # fmt: skip


def test_the_exported_names_are_these_and_each_resolves() -> None:
    assert sorted(agent.__all__) == EXPORTED
    for name in EXPORTED:
        assert getattr(agent, name) is not None, name
    assert agent.__version__ == "0.1.0"
    assert agent.DEFAULT_AGENT == "orchestrator"
    with pytest.raises(AttributeError, match="module 'agent' has no attribute 'nope'"):
        agent.nope  # noqa: B018


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_each_function_keeps_its_signature(name: str) -> None:
    assert str(inspect.signature(getattr(agent, name))) == SIGNATURES[name]


def test_run_and_dispatch_are_awaited_and_run_agent_is_iterated() -> None:
    assert inspect.iscoroutinefunction(agent.run) and inspect.iscoroutinefunction(agent.dispatch)
    assert inspect.isasyncgenfunction(agent.run_agent)
    assert inspect.signature(agent.run).parameters["agent"].default == agent.DEFAULT_AGENT  # the CLI's too
    assert (
        agent.RunOptions.model_fields["agent"].default == agent.DEFAULT_AGENT
    )  # run_agent's and run_events'


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_each_model_keeps_its_fields(name: str) -> None:
    fields = getattr(agent, name).model_fields
    shown = {
        k: "required" if f.is_required() else repr(f.get_default(call_default_factory=True))
        for k, f in fields.items()
    }
    assert shown == FIELDS[name]


def test_importing_agent_loads_nothing_else() -> None:
    """The names are imported on first use: `import agent` costs no runtime, SDK or pydantic."""
    loaded = "sorted(m for m in sys.modules if m.startswith(('agent.', 'anthropic', 'pydantic')))"
    probe = f"import sys, agent; print({loaded})"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=subprocess_env(), check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def _readme_python() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", text, flags=re.DOTALL | re.MULTILINE)
    return [textwrap.dedent(body) for _, body in blocks]


def test_readme_has_python_examples() -> None:
    assert _readme_python(), "README.md has no ```python block any more: update this test"


@pytest.mark.parametrize("index", range(len(_readme_python())))
def test_each_readme_python_example_runs_against_a_local_server(index: int, tmp_path: Path) -> None:
    code = _readme_python()[index]
    replies: list[Any] = [sse.reply(sse.text_block(0, "Added the endpoint."))]
    with MessagesServer(replies) as server:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=subprocess_env(ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=server.url),
        )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(server.requests) == 1, done.stdout + done.stderr[-3000:]
    assert "add a /health endpoint" in str(server.requests[0]["messages"])
    assert done.stdout == "success Added the endpoint.\n", done.stdout + done.stderr[-3000:]
