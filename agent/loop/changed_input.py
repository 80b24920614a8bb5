"""An allow that changes the call: the approver (the Agent SDK's `updatedInput`) sends another
input, which runs only after the checks the model's input passed: the tool's schema, its path
checks, and the deny rules. The approver chose that input, so an ask on it counts as answered;
a deny rule still decides. The model is told what ran (`ran_with`), and the
`permission_answered` event carries the input.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agent.errors import ToolFailure
from agent.loop.call_text import validation_text
from agent.tool import PermissionRequest, Tool, ToolContext

if TYPE_CHECKING:
    from agent.loop.tool_calls import Gate
    from agent.loop.turn_calls import ToolCall


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ChangedCall:
    """The call was allowed with `new_input` instead of the model's."""

    new_input: dict[str, Any]

    def checked(
        self, tool: Tool[Any], call: ToolCall, ctx: ToolContext, gate: Gate
    ) -> tuple[ToolCall, Any, list[PermissionRequest], str | None]:
        """The call with the new input, its parsed input and permission requests, and None; or the
        model's call and the reason the new input may not run."""
        refused = "the approver allowed this call with a changed input that"
        try:
            parsed = tool.input_model.model_validate(self.new_input)
        except ValidationError as exc:
            return call, None, [], f"{refused} {call.name} does not take: {validation_text(exc)}"
        try:
            requests = tool.permission_requests(parsed, ctx)
        except ToolFailure as exc:
            return call, None, [], f"{refused} cannot run: {exc}"
        verdict = gate.evaluate(call.name, self.new_input, requests)
        if verdict.decision == "deny":
            return call, None, [], f"{refused} is denied: {verdict.reason}"
        return call.model_copy(update={"input": self.new_input}), parsed, requests, None


def ran_with(tool_input: dict[str, Any]) -> str:
    """What the model reads before the output of a call whose input was changed."""
    shown = json.dumps(tool_input, ensure_ascii=False)
    return f"(the approver changed this call's input before it ran; it ran with {shown})"
