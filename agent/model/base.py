"""The model client seam: one request shape, one streamed-turn interface, two implementations.

`ModelRequest` is the one place a Messages API request body is built (`to_api_kwargs`). A model
client streams one turn as `ModelStreamEvent`s: deltas as they arrive, a `RetryNotice` when the
turn is being tried again from its start (the listener drops what it saw of the failed attempt),
a `FallbackNotice` when the model stayed overloaded and the request's fallback model is asked
instead, and a final `MessageDoneEvent` with the complete content blocks, stop_reason and usage.
Implementations: `AnthropicModel` (the real API) and `ScriptedModel` (the demo and tests).
"""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.events import Usage
from agent.transcript import Content


class ModelRequest(BaseModel):
    """Everything one model turn is asked with."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    model: str
    system: list[dict[str, Any]]
    """System prompt as text blocks (cache_control already placed)."""
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = []
    max_tokens: int
    temperature: float | None = None
    """Kept for the record only: the Messages API (SDK 2.14) takes no sampling parameters."""
    top_p: float | None = None
    """Kept for the record only, like `temperature`."""
    thinking: dict[str, Any] | None = None
    """`{"type": "enabled", "budget_tokens": N}` or None."""
    metadata: dict[str, Any] | None = None
    context_management: dict[str, Any] | None = None
    """Server-side context edits (beta; see agent/context/server_side.py)."""
    betas: list[str] = []
    """Beta headers; a request with any goes through the SDK's `beta.messages`."""
    agent: str = ""
    """Which agent asks; not sent to the API (the scripted model keys replies on it)."""
    fallback_model: str | None = None
    """Asked instead when `model` is still overloaded after the retry policy's tries (Claude Code's
    `--fallback-model`); not sent to the API."""

    def to_api_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `messages.stream` / `messages.create`; unset options are omitted."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": self.messages,
        }
        if self.system:
            kwargs["system"] = self.system
        if self.tools:
            kwargs["tools"] = self.tools
        if self.thinking is not None:
            kwargs["thinking"] = self.thinking
        if self.metadata:
            kwargs["metadata"] = self.metadata
        if self.context_management is not None:
            kwargs["context_management"] = self.context_management
        if self.betas:
            kwargs["betas"] = list(self.betas)
        return kwargs


class ModelInfo(BaseModel):
    """Limits the models API reports for one model."""

    model_config = ConfigDict(defer_build=True)

    id: str
    context_window: int | None = None
    max_output_tokens: int | None = None


class TextDeltaStreamEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    kind: Literal["text"] = "text"
    text: str


class ThinkingDeltaStreamEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    kind: Literal["thinking"] = "thinking"
    text: str


class ToolInputStreamEvent(BaseModel):
    """The model has begun writing a call to tool `name`; its input is still streaming. The loop
    tells the tool (`Tool.announced`), so slow preparation (the base checkout subagents' trees
    share) overlaps the rest of the model's reply."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["tool_input"] = "tool_input"
    tool_use_id: str
    name: str


class RetryNotice(BaseModel):
    """The turn failed part-way and will be requested again from its start."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["retry"] = "retry"
    message: str
    error_type: str
    attempt: int
    """The attempt that failed (1-based)."""
    delay_s: float


class FallbackNotice(BaseModel):
    """`from_model` stayed overloaded through every try: the turn is requested from its start
    again, on `to_model`."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["fallback"] = "fallback"
    from_model: str
    to_model: str
    message: str
    """The last failure, as the error would have said it."""


class MessageDoneEvent(BaseModel):
    """The complete assistant message of this turn."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["done"] = "done"
    content: Content
    """Content blocks exactly as they must be sent back (thinking signatures included)."""
    stop_reason: str | None
    usage: Usage
    invalid_tool_inputs: dict[str, str] = {}
    """Ids of tool_use blocks whose input is not a JSON object (never run them), each with what it
    was instead (`tool_input_problem`), which the model is told."""


def tool_input_problem(raw: str, stop_reason: str | None) -> str | None:
    """What is wrong with a tool call's streamed input JSON, in words for the model; None when it is
    an object (or empty: a call without arguments streams no JSON at all)."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        if stop_reason in ("max_tokens", "model_context_window_exceeded"):
            return (
                "its input was cut off at the output token limit, so it is incomplete; make the call "
                "again with a shorter input (e.g. write a large file in parts)"
            )
        return "its input is not valid JSON; send the arguments as one JSON object"
    if isinstance(value, dict):
        return None
    kinds: dict[type, str] = {str: "a string", list: "an array"}
    kind = kinds.get(type(value), f"a {type(value).__name__} value")
    hint = " holding JSON text" if isinstance(value, str) and value.lstrip().startswith("{") else ""
    return (
        f"its input was {kind}{hint}, not a JSON object; send the arguments as an object with the "
        "tool's fields, not encoded as a string"
    )


ModelStreamEvent = Annotated[
    TextDeltaStreamEvent
    | ThinkingDeltaStreamEvent
    | ToolInputStreamEvent
    | RetryNotice
    | FallbackNotice
    | MessageDoneEvent,
    Field(discriminator="kind"),
]


class ModelClient(Protocol):
    """What the loop needs of a model."""

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        """Stream one turn; ends with a MessageDoneEvent or raises agent.errors.ModelAPIError."""
        ...

    async def model_info(self, model: str) -> ModelInfo | None:
        """Limits from the provider when it can tell (None when unreachable or unknown)."""
        ...
