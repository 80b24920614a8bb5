"""`ScriptedModel`: the model interface driven by a file of replies (the demo, and tests).

The format is documented in docs/scripted-model.md. The model keeps no state between requests:
the conversation picks its script (by agent name and a text its first user message contains)
and the number of assistant messages already in it picks the reply. Parallel children, retries
and resumed sessions therefore get the same replies in any order.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import ConfigError, ModelAPIError
from agent.events import Usage
from agent.model.base import (
    MessageDoneEvent,
    ModelInfo,
    ModelRequest,
    ModelStreamEvent,
    TextDeltaStreamEvent,
    ThinkingDeltaStreamEvent,
    ToolInputStreamEvent,
    tool_input_problem,
)
from agent.transcript import Block, TextBlock, ThinkingBlock, ToolUseBlock, blocks_to_wire


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScriptedToolCall(_Strict):
    name: str
    input: dict[str, Any] = {}
    id: str | None = None
    """Default: `toolu_<script>_<turn>_<n>`, unique within a conversation."""
    input_json: str | None = None
    """Raw input JSON to stream instead of `input` (e.g. cut off, to script a max_tokens stop)."""


class ScriptedReply(_Strict):
    text: str = ""
    thinking: str = ""
    tool_calls: list[ScriptedToolCall] = []
    stop_reason: str | None = None
    """Default: `tool_use` when the reply calls tools, else `end_turn`."""
    usage: Usage | None = None
    """Default: about one token per four bytes of request and reply."""
    delay_s: float = 0.0
    """Spread over the reply's deltas, to make the demo watchable."""


class ScriptEntry(_Strict):
    agent: str | None = None
    """The agent this conversation runs (None: any)."""
    match: str | None = None
    """A text the conversation's first user message must contain (None: any)."""
    replies: list[ScriptedReply] = Field(min_length=1)


class ScriptFile(_Strict):
    scripts: list[ScriptEntry]


def load_script(path: Path) -> ScriptFile:
    """Parse a script file (YAML or JSON); errors name the file and the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ScriptFile.model_validate(raw)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the script: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {key}: {first['msg']} (see docs/scripted-model.md)") from exc


def _first_user_text(messages: list[dict[str, Any]]) -> str:
    for message in messages:
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            return content
        return "\n".join(b.get("text", "") for b in content if b.get("type") == "text")
    return ""


class ScriptedModel:
    """Replies from a script; implements `agent.model.base.ModelClient`."""

    def __init__(self, script: ScriptFile, source: str = "<script>") -> None:
        self._script = script
        self._source = source
        self.requests: list[ModelRequest] = []
        """Every request received, in order (tests check them)."""

    @classmethod
    def from_file(cls, path: Path) -> "ScriptedModel":
        return cls(load_script(path), str(path))

    def _pick(self, request: ModelRequest) -> tuple[int, ScriptEntry]:
        prompt = _first_user_text(request.messages)
        for index, entry in enumerate(self._script.scripts):
            if entry.agent not in (None, request.agent):
                continue
            if entry.match is not None and entry.match not in prompt:
                continue
            return index, entry
        raise ModelAPIError(
            f"{self._source}: no script for agent {request.agent!r} with prompt {prompt[:60]!r}; "
            "add an entry to `scripts:` (docs/scripted-model.md)",
            error_type="script_error",
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        """Stream the next reply of the conversation's script."""
        self.requests.append(request)
        script_index, entry = self._pick(request)
        turn = sum(1 for m in request.messages if m["role"] == "assistant")
        if turn >= len(entry.replies):
            raise ModelAPIError(
                f"{self._source}: script #{script_index + 1} (agent {request.agent!r}) has "
                f"{len(entry.replies)} replies and the conversation asked for reply {turn + 1}",
                error_type="script_error",
            )
        reply = entry.replies[turn]
        pieces = [p for p in (reply.thinking, reply.text) if p]
        pause = reply.delay_s / max(1, len(pieces) + len(reply.tool_calls))
        content: list[Block] = []
        if reply.thinking:
            await asyncio.sleep(pause)
            yield ThinkingDeltaStreamEvent(text=reply.thinking)
            content.append(ThinkingBlock(thinking=reply.thinking, signature="scripted"))
        if reply.text:
            await asyncio.sleep(pause)
            yield TextDeltaStreamEvent(text=reply.text)
            content.append(TextBlock(text=reply.text))
        stop = reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn")
        invalid: dict[str, str] = {}
        for n, call in enumerate(reply.tool_calls):
            tool_id = call.id or f"toolu_{script_index}_{turn}_{n}"
            yield ToolInputStreamEvent(tool_use_id=tool_id, name=call.name)  # the block starts...
            await asyncio.sleep(pause)  # ...and its input takes the time to write
            raw = call.input_json if call.input_json is not None else json.dumps(call.input)
            problem = tool_input_problem(raw, stop)
            if problem is not None:
                invalid[tool_id] = problem
            parsed = json.loads(raw) if problem is None and raw.strip() else {}
            content.append(ToolUseBlock(id=tool_id, name=call.name, input=parsed))
        usage = reply.usage or _estimate(request, content)
        yield MessageDoneEvent(content=content, stop_reason=stop, usage=usage, invalid_tool_inputs=invalid)

    async def model_info(self, model: str) -> ModelInfo | None:
        """The scripted model knows no limits; config decides."""
        return None


def _estimate(request: ModelRequest, content: list[Block]) -> Usage:
    sent = len(json.dumps(request.to_api_kwargs()))
    return Usage(input_tokens=sent // 4, output_tokens=max(1, len(json.dumps(blocks_to_wire(content))) // 4))
