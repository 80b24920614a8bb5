"""Build a loop over the scripted model and the fake tools; check every request it sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.loop.agent_loop import run_loop
from agent.loop.loop_setup import LoopSetup
from agent.loop.tool_calls import ToolRunner
from agent.model.resolve import ResolvedModel
from agent.model.scripted import ScriptedModel, ScriptFile
from agent.registry.schema import PriceConfig
from agent.registry.spec import AgentSpec
from agent.tool import ToolContext
from tests.loop.fakes import ReadNoteTool, SleepTool, TableGate, WriteNoteTool, create_loop_session
from tests.request_check import check_request

PRICE = PriceConfig(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)


def make_setup(
    tmp_path: Path,
    replies: list[dict[str, Any]],
    gate: TableGate | None = None,
    checkpoints: list[str] | None = None,
    **kw: Any,
) -> tuple[LoopSetup, ScriptedModel]:
    model = ScriptedModel(ScriptFile.model_validate({"scripts": [{"replies": replies}]}))
    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / ".data")
    tools = {t.name: t for t in (ReadNoteTool(), WriteNoteTool(), SleepTool())}

    async def checkpointer(label: str, tool_use_id: str) -> None:
        assert checkpoints is not None
        checkpoints.append(label)

    runner = ToolRunner(
        session_id="s1",
        agent="tester",
        tools=tools,
        ctx=ctx,
        gate=gate or TableGate(),
        checkpointer=checkpointer if checkpoints is not None else None,
    )
    create_loop_session(kw.get("store"), tmp_path)
    setup = LoopSetup(
        session_id="s1",
        spec=AgentSpec(name="tester", prompt="You test."),
        model=ResolvedModel("claude-test", 200_000, 8_000, PRICE, True),
        client=model,
        runner=runner,
        env_block="<env>x</env>",
        **kw,
    )
    return setup, model


async def collect(setup: LoopSetup, prompt: str = "go") -> list[Any]:
    return [e async for e in run_loop(setup, prompt)]


def checked(model: ScriptedModel) -> list[dict[str, Any]]:
    bodies = [r.to_api_kwargs() for r in model.requests]
    for body in bodies:
        check_request(body)
    return bodies


def call(tool: str, tool_id: str, /, **input: Any) -> dict[str, Any]:
    return {"name": tool, "id": tool_id, "input": input}
