"""The approver for runs without a person: every ask gets the same fixed answer.

`--output json`, CI, MCP without elicitation and any run whose caller named no approver use it;
a denial says how to let the call through next time.
"""

from __future__ import annotations

from typing import Literal

from agent.permissions.models import AskAnswer, AskRequest

HEADLESS_DENIAL = (
    "denied: this run has no terminal to ask on; rerun with --permission-mode accept-edits or "
    "bypass, or add an allow rule for it"
)


class PolicyApprover:
    """Answers every ask the same way: for `--output json`, CI and other runs without a person."""

    def __init__(self, decision: Literal["allow", "deny"], message: str = HEADLESS_DENIAL) -> None:
        self.decision: Literal["allow", "deny"] = decision
        self.message = message if decision == "deny" else ""

    async def ask(self, request: AskRequest) -> AskAnswer:
        """The fixed answer, once (an `always` would hide later calls from the record)."""
        return AskAnswer(decision=self.decision, message=self.message)
