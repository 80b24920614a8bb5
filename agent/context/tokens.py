"""How big a request is, in tokens: the last size the API reported plus an estimate of what changed.

The API's own count is the truth, so the tracker keeps the context size the last reply reported
(`Usage.context_tokens`) and the request's byte size at that moment. The next request is that
count plus its new bytes at a cautious rate (never under one token per four bytes); before any
reply, the whole request is estimated from its bytes. The loop compacts when the estimate comes
within the configured reserve of the window, so no request goes out over it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from agent.events import Usage
from agent.model.base import ModelRequest
from agent.transcript import Message, messages_to_wire

BYTES_PER_TOKEN = 4
"""The fallback rate, and the least cautious one the tracker uses for growth."""


def json_bytes(value: Any) -> int:
    """Bytes of `value` as compact JSON: what the API is sent, without cache markers counted apart."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def transcript_bytes(messages: Sequence[Message]) -> int:
    """Bytes of `messages` as they are sent."""
    return json_bytes(messages_to_wire(messages))


def request_bytes(request: ModelRequest) -> int:
    """Bytes of the parts of a request that fill the context window: tools, system, messages."""
    return json_bytes(request.tools) + json_bytes(request.system) + json_bytes(request.messages)


def estimate_tokens(nbytes: int) -> int:
    """Tokens of `nbytes` of prompt at the fallback rate (rounded up)."""
    return -(-nbytes // BYTES_PER_TOKEN)


@dataclasses.dataclass(eq=False, repr=False)
class ContextTracker:
    """The context size of the conversation, from the usage the API reports."""

    reported_tokens: int | None = None
    """Context tokens of the last request, as its reply reported them."""
    reported_bytes: int = 0
    """`request_bytes` of that request."""

    def observe(self, nbytes: int, usage: Usage) -> None:
        """Record the context size the API reported for a request of `nbytes`."""
        if usage.context_tokens > 0 and nbytes > 0:
            self.reported_tokens = usage.context_tokens
            self.reported_bytes = nbytes

    def reset(self) -> None:
        """Forget the last report (the transcript was rewritten; its size is estimated afresh)."""
        self.reported_tokens = None
        self.reported_bytes = 0

    def estimate(self, nbytes: int) -> int:
        """Tokens a request of `nbytes` will carry; errs on the high side."""
        if self.reported_tokens is None or self.reported_bytes <= 0:
            return estimate_tokens(nbytes)
        observed = self.reported_tokens / self.reported_bytes
        delta = nbytes - self.reported_bytes
        rate = max(observed, 1 / BYTES_PER_TOKEN) if delta >= 0 else min(observed, 1 / BYTES_PER_TOKEN)
        return max(0, self.reported_tokens + int(delta * rate + (1 if delta > 0 else 0)))
