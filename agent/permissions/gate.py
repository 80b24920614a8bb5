"""The permission gate: decides each tool call, asks the person when needed, remembers answers.

One gate per agent. `evaluate` is synchronous and does no I/O: it resolves every permission a
call needs (for bash, every simple command the line would run, and an `edit` for every file a
redirection writes), applies the mode, then the loop guard (never in `bypass`, which asks
nothing).

Deny rules fail closed on bash. A line that cannot be fully analysed is denied, in every mode,
while any deny rule applies to the `bash` permission (from this agent's rules, an ancestor's or
the session's): what it runs is unknown, so any deny rule could match it. Without one it is an
ask (allowed in bypass, like any command). A command whose words are partly known only when it
runs (`git $sub`, `git pu?h`, what xargs appends) is denied when some value of those parts would
match a deny rule (`rules.could_match`).

`ask` is the only way to a person: through the root's approver, with a timeout, so that no
answer is a denial and a headless run never hangs. An `always` answer goes into the session's
`AlwaysMemory` (agent.permissions.always), which the front end hands to every run of the session,
so approvers remember nothing themselves. A subagent's gate (`child`) shares
the approver and the session's memory with its parent, and a denial in any ancestor's rules cannot
be lifted by the child's. The gate keeps no list of denials: the loop records each refused call
(with its tool_use_id) in `TurnCalls.denials`, the one list the result's `permission_denials` uses.
"""

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.permissions.always import AlwaysMemory
from agent.permissions.models import Approver, AskAnswer, AskRequest, Decision, PermissionMode, PermissionRule
from agent.permissions.modes import apply_mode
from agent.permissions.rules import could_match, evaluate, is_read_only_command, matches
from agent.tool import PermissionRequest

LOOP_LIMIT = 3
"""The same tool with the same input this many times in a row is an ask."""

NO_APPROVER = (
    "no one to ask: run with --permission-mode accept-edits or bypass, or add an allow rule "
    "for it in agents.yaml or .subagent/config.yaml"
)
_STRICTNESS: dict[Decision, int] = {"allow": 0, "ask": 1, "deny": 2}


class GateVerdict(BaseModel):
    """The gate's answer for one call: the strictest decision over everything it needs."""

    model_config = ConfigDict(defer_build=True)

    decision: Decision
    reason: str
    """Why: the rule (and where it came from), the mode, the loop guard, or the parse problem."""
    permission: str = ""
    """The permission that decided (empty when the call needs none)."""
    patterns: list[str] = []
    """The patterns that got `decision` for that permission: what an ask is about."""


@dataclass(frozen=True, eq=False, repr=False)
class _Check:
    """One permission and pattern checked against the rules and the mode."""

    permission: str
    pattern: str
    decision: Decision
    reason: str


class PermissionGate:
    """Decides tool calls for one agent. See the module docstring."""

    def __init__(
        self,
        rules: list[PermissionRule],
        mode: PermissionMode,
        approver: Approver | None,
        ask_timeout_s: float = 300,
        *,
        memory: AlwaysMemory | None = None,
        _parent: "PermissionGate | None" = None,
    ) -> None:
        self.rules = list(rules)
        self.mode: PermissionMode = mode
        self.approver = approver
        self.ask_timeout_s = ask_timeout_s
        self._parent = _parent
        self.memory = memory if memory is not None else AlwaysMemory()
        """The session's `always` answers: shared with every run of the session and its subagents."""
        self._last_call: str | None = None
        self._repeats = 0

    @property
    def session_rules(self) -> list[PermissionRule]:
        """Rules added by `always` answers (shared with parent and children)."""
        return self.memory.rules

    def child(self, extra_rules: Sequence[PermissionRule] = ()) -> "PermissionGate":
        """The gate for a subagent: this gate's rules then `extra_rules`; same approver and session."""
        return PermissionGate(
            [*self.rules, *extra_rules], self.mode, self.approver, self.ask_timeout_s,
            memory=self.memory, _parent=self,
        )  # fmt: skip

    def _rule_for(self, permission: str, pattern: str) -> PermissionRule | None:
        own = evaluate([*self.rules, *self.memory.rules], permission, pattern)
        inherited = self._parent._rule_for(permission, pattern) if self._parent else None
        if inherited is not None and inherited.decision == "deny":
            return inherited
        return own

    def _check(self, permission: str, pattern: str, *, read_only: bool = False) -> _Check:
        rule = self._rule_for(permission, pattern)
        ruled: Decision = rule.decision if rule else "ask"
        decision = apply_mode(self.mode, permission, ruled, read_only=read_only)
        what = f"{permission} `{pattern}`"
        if decision != ruled:
            reason = f"{what}: {decision} in {self.mode} mode"
        elif rule is None:
            reason = f"{what}: no rule matches, so ask"
        else:
            source = f" from {rule.source}" if rule.source else ""
            reason = f"{what}: {decision} by rule {rule.permission}: `{rule.pattern}`{source}"
        return _Check(permission, pattern, decision, reason)

    def _bash_denials(self) -> list[PermissionRule]:
        """Every deny rule that applies to the `bash` permission, this gate's and its ancestors'."""
        own = [*self.rules, *self.memory.rules]
        denials = [r for r in own if r.decision == "deny" and matches(r.permission, "bash")]
        return denials + (self._parent._bash_denials() if self._parent else [])

    def _bash_checks(self, line: str) -> list[_Check]:
        from agent.permissions.bash_parse import analyse_bash  # about 10 ms: at the first bash call

        analysis = analyse_bash(line)
        checks: list[_Check] = []
        denials = self._bash_denials()
        if analysis.unanalysable and denials:
            reason = (
                f"bash `{line}` cannot be checked ({analysis.reason}), and a command that cannot be "
                f"checked is denied while a deny rule applies to bash ({_named(denials[0])})"
            )
            checks.append(_Check("bash", line, "deny", reason))
        elif analysis.unanalysable and not self.memory.allows("bash", line):
            decision = apply_mode(self.mode, "bash", "ask")
            reason = f"bash `{line}` cannot be checked: {analysis.reason}"
            checks.append(_Check("bash", line, decision, reason))
        for command in analysis.commands:
            if command.template != command.text:
                hit = next((r for r in denials if could_match(r.pattern, command.template)), None)
                if hit is not None:
                    reason = (
                        f"bash `{command.text}`: parts of it are only known when it runs and "
                        f"could make it match {_named(hit)}"
                    )
                    checks.append(_Check("bash", command.text, "deny", reason))
            read_only = is_read_only_command(command.text) and not command.writes_to
            checks.append(self._check("bash", command.text, read_only=read_only))
            checks.extend(self._check("edit", target) for target in command.writes_to)
        return checks

    def evaluate(
        self, tool_name: str, tool_input: dict[str, Any], requests: list[PermissionRequest]
    ) -> GateVerdict:
        """Decide one call: deny beats ask beats allow over every permission and pattern.

        Call it once per tool call (it counts repeats for the loop guard); for an ask, call `ask`
        with an AskRequest built from the verdict.
        """
        checks: list[_Check] = []
        for request in requests:
            for pattern in request.patterns:
                if request.permission == "bash":
                    checks.extend(self._bash_checks(pattern))
                else:
                    checks.append(self._check(request.permission, pattern))
        verdict = _strictest(checks)
        return self._loop_guard(tool_name, tool_input, verdict)

    def _loop_guard(self, tool_name: str, tool_input: dict[str, Any], verdict: GateVerdict) -> GateVerdict:
        key = json.dumps([tool_name, tool_input], sort_keys=True, default=str)
        self._repeats = self._repeats + 1 if key == self._last_call else 1
        self._last_call = key
        if verdict.decision != "allow" or self._repeats < LOOP_LIMIT or self.mode == "bypass":
            return verdict  # bypass means no asks: the guard counts but never stops the call
        reason = (
            f"loop guard: the same {tool_name} call with the same input {self._repeats} times in a row; "
            "try something different or ask for help"
        )
        return verdict.model_copy(update={"decision": "ask", "reason": reason})

    async def ask(self, request: AskRequest) -> AskAnswer:
        """Put one ask to the approver; no approver, a timeout or an error is a denial."""
        if self.approver is None:
            answer = AskAnswer(decision="deny", message=NO_APPROVER)
        else:
            try:
                answer = await asyncio.wait_for(self.approver.ask(request), self.ask_timeout_s)
            except TimeoutError:
                answer = AskAnswer(
                    decision="deny", message=f"no answer within {self.ask_timeout_s:g} s, so denied",
                )  # fmt: skip
        self.memory.remember(request, answer)
        for update in answer.rule_updates:
            self.memory.update(update)
        return answer


def _named(rule: PermissionRule) -> str:
    source = f" from {rule.source}" if rule.source else ""
    return f"deny rule {rule.permission}: `{rule.pattern}`{source}"


def _strictest(checks: list[_Check]) -> GateVerdict:
    if not checks:
        return GateVerdict(decision="allow", reason="the call needs no permission")
    worst = max(checks, key=lambda c: _STRICTNESS[c.decision])
    same = [c for c in checks if c.decision == worst.decision and c.permission == worst.permission]
    return GateVerdict(
        decision=worst.decision,
        reason="; ".join(dict.fromkeys(c.reason for c in same)),
        permission=worst.permission,
        patterns=list(dict.fromkeys(c.pattern for c in same)),
    )
