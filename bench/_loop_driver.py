"""Run one agent through `agent.runtime.run_agent` when `subagent run` cannot be assembled yet.

Used by bench_loop.py on a build that lacks the registry/tools/gate/store modules: the registry
is read from agents.yaml and the persona file directly, the one tool is a trivial `read`, and
nothing is stored. It measures the same path from process start to the first request.
Usage: python bench/_loop_driver.py AGENT PROMPT   (ANTHROPIC_BASE_URL points at the server)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from agent._wiring import RuntimeParts
from agent.config import load_registry
from agent.paths import builtin_dir
from agent.runtime import run_agent
from agent.spec import AgentSpec
from tools.base import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult


class _ReadInput(ToolInput):
    file_path: str


class _TrivialReadTool(Tool[_ReadInput]):
    name: ClassVar[str] = "read"
    description: ClassVar[str] = "Read a file."
    input_model: ClassVar[type[ToolInput]] = _ReadInput
    kind: ClassVar = "read"

    async def run(self, input: _ReadInput, ctx: ToolContext) -> ToolResult:
        return ToolResult(output=(ctx.workspace / input.file_path).read_text())

    def permission_requests(self, input: _ReadInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="read", patterns=[input.file_path])]


class _Verdict:
    decision, reason, permission, patterns = "allow", "", "read", []


class _BenchGate:
    """Benchmarks only: every call is allowed (the run reads one file in a temp dir)."""

    def evaluate(self, tool_name: str, tool_input: dict[str, Any], requests: list[PermissionRequest]) -> Any:
        return _Verdict()

    async def ask(self, request: Any) -> Any:
        raise AssertionError("the benchmark never asks")


class _Registry:
    def __init__(self) -> None:
        self.config = load_registry(builtin_dir() / "agents.yaml")

    def get(self, name: str) -> AgentSpec:
        entry = self.config.agents[name]
        text = (builtin_dir() / (entry.prompt_file or f"prompts/{name}.md")).read_text()
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
        return AgentSpec(
            name=name,
            prompt=body.strip(),
            model=meta.get("model"),
            temperature=meta.get("temperature"),
            tools=["read"],
        )


def _parts() -> RuntimeParts:
    return RuntimeParts(
        load_registry=lambda cwd: _Registry(),
        load_tools=lambda names: [_TrivialReadTool()],
        make_sandbox=lambda c, w, n: None,
        make_gate=lambda r, m, a, t: _BenchGate(),
        open_store=lambda: None,
        repair=lambda m: m,
        make_snapshot=lambda w: None,
        headless_approver=lambda: None,  # type: ignore[arg-type,return-value]
    )


async def _main(agent: str, prompt: str) -> int:
    async for event in run_agent(prompt, agent=agent, cwd=Path.cwd(), parts=_parts()):
        if event.type in ("error", "result"):
            print(event.model_dump_json()[:500], file=sys.stderr)
        if event.type == "result":
            return 0 if event.subtype == "success" else 1
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1], sys.argv[2])))
