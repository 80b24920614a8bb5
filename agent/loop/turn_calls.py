"""One turn's tool calls and what became of them: results, denials, which ones started.

`TurnCalls` is what the tool runner (agent.loop.tool_calls) fills as calls settle and finish,
and what the loop (agent.loop.agent_loop) reads back, even after a cancel: every `tool_use` gets a
`tool_result` block, an interrupted call's saying whether it had started.
"""

import dataclasses
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.events import PermissionDenial
from agent.tool import ToolResult
from agent.transcript import Block, ImageBlock, TextBlock, ToolResultBlock, interrupted_text


class ToolCall(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    input: dict[str, Any]


@dataclasses.dataclass(eq=False, repr=False)
class TurnCalls:
    """One turn's calls and what became of them."""

    calls: list[ToolCall]
    results: dict[str, ToolResult] = dataclasses.field(default_factory=dict)
    denials: list[PermissionDenial] = dataclasses.field(default_factory=list)
    started: set[str] = dataclasses.field(default_factory=set)
    """Ids of calls whose tool began running: an interrupted one may have had effects."""
    announced: set[str] = dataclasses.field(default_factory=set)
    """Ids of calls a tool_call_started event went out for (each must be seen to finish)."""
    allowed: tuple[tuple[str, dict[str, Any]], ...] = ()
    """(name, input) of the calls that were allowed to run (`ToolCallInfo.turn`)."""

    def interrupted(self) -> list[tuple[ToolCall, ToolResult]]:
        """Announced calls left without a result by a cancel, with what the model is told."""
        return [
            (call, _interrupted(call.id in self.started))
            for call in self.calls
            if call.id in self.announced and call.id not in self.results
        ]

    def result_blocks(self) -> list[ToolResultBlock]:
        """tool_result blocks in tool_use order; a call without a result was interrupted."""
        blocks = []
        for call in self.calls:
            result = self.results.get(call.id)
            blocks.append(_result_block(call.id, result or _interrupted(call.id in self.started)))
        return blocks


def _interrupted(started: bool) -> ToolResult:
    return ToolResult(output=interrupted_text(started, "the run was cancelled"), is_error=True)


def _result_block(tool_use_id: str, result: ToolResult) -> ToolResultBlock:
    content: str | list[Block] = result.output or "(no output)"
    if result.images:
        content = [
            TextBlock(text=result.output),
            *(
                ImageBlock(source={"type": "base64", "media_type": i.media_type, "data": i.data_base64})
                for i in result.images
            ),
        ]
    if result.is_error:
        return ToolResultBlock(tool_use_id=tool_use_id, content=content, is_error=True)
    return ToolResultBlock(tool_use_id=tool_use_id, content=content)
