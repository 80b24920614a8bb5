"""Permission asks of a run behind `subagent mcp`, answered by the MCP client's user.

Two transports, chosen by the protocol the client negotiated:
- up to 2025-11-25 (`mode="legacy"` in the `mcp` SDK, Claude Code, the Inspector): an
  `elicitation/create` request in the middle of the call (`ElicitationApprover`);
- 2026-07-28 (the `mcp` SDK's default): the call returns `input_required` with the pending asks,
  the client answers them and calls again with `request_state`, and the run, kept alive between
  the two calls, goes on (`RoundTrip`).
A client that declared no elicitation gets a denial that says so and how to allow the call.
"""

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent.permissions.models import AskAnswer, AskRequest

if TYPE_CHECKING:
    from mcp.types import InputRequiredResult

INPUT_REQUIRED_VERSION = "2026-07-28"

NO_ELICITATION = (
    "denied: the MCP client did not declare elicitation, so no one can answer permission asks; "
    "call again with permission_mode 'accept-edits' (edits in the workspace) or 'bypass' "
    "(everything), or add an allow rule to your config (~/.config/subagent/config.yaml, or a "
    "trusted workspace's .subagent/config.yaml)"
)


class PermissionForm(BaseModel):
    """The elicitation form for one ask."""

    allow: bool = Field(description="Let the agent do this")
    always: bool = Field(False, description="Also allow the same thing again in this session without asking")


def ask_message(request: AskRequest) -> str:
    """What the client's user reads: who asks for what, and the detail (a command, a diff)."""
    who = f" ({request.agent})" if request.agent else ""
    detail = f"\n\n{request.detail}" if request.detail and request.detail != request.title else ""
    return f"{request.tool_name}{who} wants `{request.permission}`: {request.title}{detail}"


def answer_from(action: str, content: dict[str, Any] | None, permission: str) -> AskAnswer:
    """The client's elicitation result as the gate's answer; a decline or cancel is a denial."""
    if action == "accept" and content and content.get("allow"):
        return AskAnswer(decision="allow", scope="always" if content.get("always") else "once")
    reason = "cancelled" if action == "cancel" else "declined"
    return AskAnswer(
        decision="deny",
        message=f"{permission} {reason} by the MCP client's user; to let such calls through without "
        "asking, call with permission_mode 'accept-edits' or 'bypass', or add an allow rule",
    )


class ElicitationApprover:
    """Asks through `elicitation/create` in the middle of the call (protocols up to 2025-11-25)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def ask(self, request: AskRequest) -> AskAnswer:
        answer = await self.ctx.elicit(ask_message(request), PermissionForm)
        return answer_from(answer.action, answer.data.model_dump() if answer.action == "accept" else None,
                           request.permission)  # fmt: skip


class RoundTrip:
    """The asks of one run waiting for a 2026-07-28 client: each call returns them as
    `input_required`; the client's next call brings the answers (`answer`)."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[AskRequest, asyncio.Future[AskAnswer]]] = {}
        self.changed = asyncio.Event()
        self._keys = itertools.count(1)

    async def ask(self, request: AskRequest) -> AskAnswer:
        key = f"ask_{next(self._keys)}"
        future: asyncio.Future[AskAnswer] = asyncio.get_running_loop().create_future()
        self.pending[key] = (request, future)
        self.changed.set()
        try:
            return await future
        finally:
            self.pending.pop(key, None)

    def answer(self, responses: dict[str, Any]) -> None:
        """Hand the client's answers (ElicitResult per key) to the asks waiting for them."""
        for key, response in responses.items():
            waiting = self.pending.pop(key, None)  # answered: not to be asked again
            if waiting is None or waiting[1].done():
                continue
            action = getattr(response, "action", "cancel")
            content = getattr(response, "content", None)
            waiting[1].set_result(answer_from(action, content, waiting[0].permission))

    def input_required(self, state: str) -> "InputRequiredResult":
        """The `input_required` result that carries every pending ask."""
        from mcp.server.elicitation import render_elicitation_schema
        from mcp.types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult

        schema = render_elicitation_schema(PermissionForm)
        requests = {
            key: ElicitRequest(
                params=ElicitRequestFormParams(message=ask_message(req), requested_schema=schema)
            )
            for key, (req, _) in self.pending.items()
        }
        return InputRequiredResult(input_requests=requests, request_state=state)


def uses_input_required(ctx: Any) -> bool:
    """Whether the call's protocol carries asks as `input_required` (2026-07-28 and later)."""
    version = ctx.protocol_version or ""
    return version >= INPUT_REQUIRED_VERSION


def approver_for(ctx: Any, round_trip: RoundTrip | None) -> Any:
    """The approver for a run started by this call."""
    from agent.permissions.headless import PolicyApprover

    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.elicitation is None:
        return PolicyApprover("deny", NO_ELICITATION)
    if round_trip is not None:
        return round_trip
    if ctx.session.can_send_request:
        return ElicitationApprover(ctx)
    return PolicyApprover("deny", NO_ELICITATION)
