"""What arrives on stdin in stream-json input: user messages become prompts, control requests
are answered, the SDK's answers to our requests go to whoever waits for them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agent.errors import ConfigError

if TYPE_CHECKING:
    from agent.headless.session import HeadlessSession


def prompt_text(message: dict[str, Any]) -> str:
    """A user message's text: a string, or its text blocks joined.

    Raises:
        ConfigError: a block subagent cannot take as a prompt (an image, a document).
    """
    content = (message.get("message") or {}).get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ConfigError("a user message needs message.content: a string or a list of content blocks")
    texts = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind != "text":
            raise ConfigError(
                f"a user message's {kind or 'unknown'} block is not supported; send text blocks"
            )
        texts.append(str(block.get("text", "")))
    return "\n\n".join(texts)


HOOKS_REFUSED = (
    "subagent does not run the SDK's hooks, and a hook you rely on must not be skipped silently; "
    "decide on tool calls with can_use_tool (it sees every ask), or run without hooks"
)


class Inbox:
    """Routes stdin's messages; `prompts` holds the user messages in order, then None."""

    def __init__(self, session: HeadlessSession) -> None:
        self.session = session
        self.prompts: asyncio.Queue[str | None] = asyncio.Queue()
        if session.opts.prompt:
            self.prompts.put_nowait(session.opts.prompt)

    async def pump(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        while (message := await queue.get()) is not None:
            kind = message.get("type")
            if kind == "user":
                try:
                    self.prompts.put_nowait(prompt_text(message))
                except ConfigError as exc:
                    self.session.channel.send(_notice("invalid_message", str(exc)))
            elif kind == "control_request":
                self.answer(message)
            elif kind == "control_response":
                self.session.channel.resolve(message)
            elif kind == "invalid":
                self.session.channel.send(_notice("invalid_message", f"not a JSON object: {message['line']}"))
        self.session.channel.close("stdin closed before the SDK answered")
        self.prompts.put_nowait(None)

    def answer(self, message: dict[str, Any]) -> None:
        """Answer one control request from the SDK."""
        request_id = str(message.get("request_id"))
        request = message.get("request") or {}
        subtype = request.get("subtype")
        session, channel = self.session, self.session.channel
        try:
            if subtype == "initialize" and request.get("hooks"):
                channel.respond(request_id, error=HOOKS_REFUSED)
            elif subtype == "initialize":
                if request.get("agents"):  # the SDK's `agents` option
                    agents = {**session.opts.agents, **request["agents"]}
                    session.opts = session.opts.model_copy(update={"agents": agents})
                channel.respond(request_id, _initialize(session))
            elif subtype == "interrupt":
                session.interrupt()
                channel.respond(request_id)
            elif subtype == "set_permission_mode":
                session.set_mode(str(request.get("mode")))
                channel.respond(request_id)
            elif subtype == "set_model":
                session.model = request.get("model") or session.opts.model
                channel.respond(request_id)
            else:
                channel.respond(
                    request_id, error=f"subagent does not support the {subtype!r} control request"
                )
        except ConfigError as exc:
            channel.respond(request_id, error=str(exc))


def _initialize(session: HeadlessSession) -> dict[str, Any]:
    return {
        "commands": [],
        "agents": [],
        "output_style": "default",
        "available_output_styles": ["default"],
        "models": [],
        "pid": None,
    }


def _notice(subtype: str, text: str) -> dict[str, Any]:
    return {"type": "system", "subtype": subtype, "message": text}
