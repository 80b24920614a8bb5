"""The permission vocabulary shared by personas, config, the gate and every approver."""

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

Decision = Literal["allow", "ask", "deny"]
PermissionMode = Literal["default", "accept-edits", "plan", "bypass"]


class PermissionRule(BaseModel):
    """`decision` for `permission` on anything matching `pattern`; the last matching rule wins."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    permission: str
    """A permission name, or `*` for all."""
    pattern: str = "*"
    """Glob over the request's pattern (a path, or a bash command such as `git push *`)."""
    decision: Decision
    source: str = ""
    """Where the rule came from (file path, `default`, `session`), for explanations; rules of
    one source decide together (`agent.permissions.rules.evaluate`)."""
    line: int | None = None
    """The line of `source` that wrote the rule, when known (`subagent agents show --rules`)."""


class AskRequest(BaseModel):
    """A question for the person at the root of the session."""

    model_config = ConfigDict(defer_build=True)

    session_id: str
    tool_use_id: str
    tool_name: str
    permission: str
    patterns: list[str]
    title: str
    """One line: the command, or the file and what will change."""
    detail: str = ""
    """For a person: the command in full, or the change (a diff) for an edit, write or patch;
    the input's fields, one per line, for other tools. Capped in length."""
    tool_input: dict[str, Any] = {}
    """The call's input as the model sent it, for approvers that present it their own way."""
    agent: str = ""
    """The agent asking (a subagent's name when it comes from a child)."""


class RuleUpdate(BaseModel):
    """A change to the session's remembered rules that came with an answer (the Agent SDK's
    `updatedPermissions`): `add` appends `rules`, `replace` drops the session's rules of
    `decision` first, `remove` drops the rules equal to these."""

    model_config = ConfigDict(defer_build=True)

    action: Literal["add", "replace", "remove"]
    decision: Decision
    rules: list[PermissionRule]


class AskAnswer(BaseModel):
    model_config = ConfigDict(defer_build=True)

    decision: Literal["allow", "deny"]
    scope: Literal["once", "always"] = "once"
    """`always` adds an allow rule for this session."""
    message: str = ""
    """With a denial: what to tell the model instead."""
    updated_input: dict[str, Any] | None = None
    """With an allow: the input the call runs with instead of the model's; it is validated and
    checked against the deny rules again before it runs."""
    rule_updates: list[RuleUpdate] = []
    """Changes to the session's rules, applied by the gate with the answer."""


class Approver(Protocol):
    """Whoever answers asks: the terminal, ACP, MCP elicitation, or a policy."""

    async def ask(self, request: AskRequest) -> AskAnswer:
        """Answer one ask; the gate applies the timeout (no answer is a denial)."""
        ...
