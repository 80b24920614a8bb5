"""The answer a tool call gets when it never finished: one wording for every place that writes it.

A cancelled turn (agent.loop.tool_calls), a refused turn (agent.loop.agent_loop) and a crash found on resume
(agent.sessions.repair) all must answer each `tool_use`; the model has to know whether the tool
had started, because a call that started may have partly happened.
"""

from __future__ import annotations

from agent.transcript import ToolResultBlock, parse_block


def interrupted_text(started: bool, why: str = "the run stopped") -> str:
    """What the model is told about a call that has no result; `why` says what stopped it."""
    if started:
        return (
            f"Interrupted: {why} while this tool was running, so it may have partly happened. "
            "Check its effects before running it again."
        )
    return f"Interrupted: {why} before this tool started; it did not run."


def interrupted_block(tool_use_id: str, started: bool, why: str = "the run stopped") -> ToolResultBlock:
    """The tool_result block (an error) answering `tool_use_id` with `interrupted_text`."""
    block = parse_block(  # read from its wire form: the key order it has always been sent in
        {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "is_error": True,
            "content": interrupted_text(started, why),
        }
    )
    assert isinstance(block, ToolResultBlock)
    return block
