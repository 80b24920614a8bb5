"""The scripted model: script choice by agent and prompt, stateless turns, clear errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.errors import ConfigError, ModelAPIError
from agent.model.base import ModelRequest
from agent.model.scripted import ScriptedModel
from agent.transcript import blocks_to_wire, tool_uses

SCRIPT = """
scripts:
  - agent: orchestrator
    replies:
      - text: Delegating.
        tool_calls:
          - {name: task, input: {description: api, prompt: "build the API", subagent_type: x}}
          - {name: task, input: {description: db, prompt: "design the schema", subagent_type: x}}
      - text: Both done.
  - agent: backend-engineer
    match: build the API
    replies:
      - {thinking: "Routes first.", text: "API built.", usage: {input_tokens: 50, output_tokens: 5}}
  - agent: backend-engineer
    match: design the schema
    replies:
      - {text: Schema designed., delay_s: 0.05}
"""


def req(agent: str, messages: list[dict[str, Any]]) -> ModelRequest:
    return ModelRequest(model="m", system=[], messages=messages, max_tokens=100, agent=agent)


async def done(model: ScriptedModel, request: ModelRequest) -> Any:
    return [e async for e in model.stream(request)][-1]


@pytest.fixture
def model(tmp_path: Path) -> ScriptedModel:
    path = tmp_path / "demo.yaml"
    path.write_text(SCRIPT)
    return ScriptedModel.from_file(path)


async def test_replies_follow_the_conversation(model: ScriptedModel) -> None:
    first = await done(model, req("orchestrator", [{"role": "user", "content": "go"}]))
    assert first.stop_reason == "tool_use"
    ids = [call.id for call in tool_uses(first.content)]
    assert len(set(ids)) == 2
    history = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": blocks_to_wire(first.content)},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": i, "content": "ok"} for i in ids],
        },
    ]
    second = await done(model, req("orchestrator", history))
    assert (blocks_to_wire(second.content), second.stop_reason) == (
        [{"type": "text", "text": "Both done."}],
        "end_turn",
    )


async def test_parallel_children_get_their_own_script(model: ScriptedModel) -> None:
    schema, api = await asyncio.gather(
        done(model, req("backend-engineer", [{"role": "user", "content": "please design the schema"}])),
        done(
            model,
            req(
                "backend-engineer", [{"role": "user", "content": [{"type": "text", "text": "build the API"}]}]
            ),
        ),
    )
    assert blocks_to_wire(schema.content) == [{"type": "text", "text": "Schema designed."}]
    assert blocks_to_wire(api.content)[0] == {
        "type": "thinking",
        "thinking": "Routes first.",
        "signature": "scripted",
    }
    assert api.usage.input_tokens == 50


async def test_running_out_of_replies_is_a_clear_error(model: ScriptedModel) -> None:
    history = [
        {"role": "user", "content": "build the API"},
        {"role": "assistant", "content": "x"},
        {"role": "user", "content": "more"},
    ]
    with pytest.raises(ModelAPIError, match="has 1 replies and the conversation asked for reply 2"):
        await done(model, req("backend-engineer", history))
    with pytest.raises(ModelAPIError, match="no script for agent 'explore'"):
        await done(model, req("explore", [{"role": "user", "content": "x"}]))


def test_a_bad_script_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("scripts:\n  - replies:\n      - {txt: hello}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: scripts\.0\.replies\.0\.txt"):
        ScriptedModel.from_file(path)
