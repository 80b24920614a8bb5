"""The gate: bash decisions under rule sets, modes, asks with timeouts, session memory, children."""

from __future__ import annotations

import asyncio

import pytest

from agent.permissions.gate import NO_APPROVER, GateVerdict, PermissionGate
from agent.permissions.models import AskAnswer, AskRequest, PermissionMode, PermissionRule
from agent.permissions.modes import apply_mode
from agent.permissions.rules import DEFAULT_RULES
from agent.tool import PermissionRequest


def _bash(line: str) -> list[PermissionRequest]:
    return [PermissionRequest(permission="bash", patterns=[line])]


def _rule(permission: str, pattern: str, decision: str) -> PermissionRule:
    return PermissionRule(permission=permission, pattern=pattern, decision=decision)  # type: ignore[arg-type]


class RecordingApprover:
    """Answers with a fixed answer and keeps every request it was asked."""

    def __init__(self, answer: AskAnswer) -> None:
        self.answer = answer
        self.requests: list[AskRequest] = []

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.requests.append(request)
        return self.answer


class SilentApprover:
    """A person who never answers."""

    async def ask(self, request: AskRequest) -> AskAnswer:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def _request(verdict_patterns: list[str], permission: str = "bash", tool_use_id: str = "t1") -> AskRequest:
    return AskRequest(
        session_id="s", tool_use_id=tool_use_id, tool_name="bash", permission=permission,
        patterns=verdict_patterns, title=" ".join(verdict_patterns),
    )  # fmt: skip


# bash is allowed in general, `rm` is denied: no way around the deny
DENY_RM = [*DEFAULT_RULES, _rule("bash", "*", "allow"), _rule("bash", "rm *", "deny")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rm -rf x", "deny"),
        ("ls && rm -rf x", "deny"),
        ("ls; rm x", "deny"),
        ("false || rm x", "deny"),
        ("ls | rm x", "deny"),
        ('sh -c "rm x"', "deny"),
        ("bash -c 'ls && rm x'", "deny"),
        ("env rm x", "deny"),
        ("env FOO=1 rm -rf /", "deny"),
        ("xargs rm < list", "deny"),
        ("find . | xargs -0 rm", "deny"),
        ("sudo rm x", "deny"),
        ("timeout 5 rm x", "deny"),
        ("nohup nice rm x &", "deny"),
        ("echo $(rm x)", "deny"),
        ("echo `rm x`", "deny"),
        ('echo "$(rm x)"', "deny"),
        ("cat <(rm x)", "deny"),
        ("(rm x)", "deny"),
        ("if true; then rm x; fi", "deny"),
        ("for i in 1; do rm $i; done", "deny"),
        ("f() { rm x; }; f", "deny"),
        ("find . -exec rm {} +", "deny"),
        ("cat <<EOF\n$(rm x)\nEOF", "deny"),
        ('"rm" x', "deny"),
        ("/bin/rm x", "deny"),
        ("eval x; rm y", "deny"),  # deny beats the ask for eval
        ("cat <<'EOF'\n$(rm x)\nEOF", "allow"),
        ("echo 'rm x'", "allow"),
        ("ls -la | grep x", "allow"),
        ("npm test && git status", "allow"),
        ("$CMD x", "deny"),  # cannot be checked, and a deny rule exists: fail closed
        ('eval "rm x"', "deny"),
        ("source env.sh", "deny"),
        ("curl x | sh", "deny"),
        ("ls &&", "deny"),
        ("echo hi > out.txt", "ask"),  # the redirect needs `edit` on out.txt
        ("echo hi > /dev/null", "allow"),
    ],
)
def test_bash_decisions_cannot_be_bypassed(line: str, expected: str) -> None:
    gate = PermissionGate(DENY_RM, "default", approver=None)
    verdict = gate.evaluate("bash", {"command": line}, _bash(line))
    assert verdict.decision == expected, verdict.reason


NO_DENY = [*DEFAULT_RULES, _rule("bash", "*", "allow")]


def _decide(rules: list[PermissionRule], mode: PermissionMode, line: str) -> GateVerdict:
    return PermissionGate(rules, mode, approver=None).evaluate("bash", {"command": line}, _bash(line))


@pytest.mark.parametrize(
    "line",
    ["$CMD x", 'eval "rm x"', "source env.sh", "curl x | sh", "ls &&", "git -c core.pager=less log",
     "PATH=/x ls", "sudo --frob ls"],
)  # fmt: skip
def test_without_deny_rules_an_unanalysable_line_is_asked_and_bypass_allows_it(line: str) -> None:
    default = _decide(NO_DENY, "default", line)
    bypass = _decide(NO_DENY, "bypass", line)
    assert (default.decision, bypass.decision) == ("ask", "allow"), default.reason
    assert "cannot be checked" in default.reason


def test_a_line_that_cannot_be_checked_is_denied_while_any_bash_deny_rule_exists() -> None:
    rules = [*NO_DENY, _rule("bash", "terraform destroy*", "deny")]
    for mode in ("default", "accept-edits", "plan", "bypass"):
        verdict = _decide(rules, mode, "eval x")
        assert verdict.decision == "deny", mode
        assert "terraform destroy*" in verdict.reason and "`eval` runs a string" in verdict.reason
    denied_elsewhere = [*NO_DENY, _rule("edit", "secrets/*", "deny")]  # only bash deny rules count
    assert _decide(denied_elsewhere, "bypass", "eval x").decision == "allow"


async def test_a_parents_deny_rule_makes_a_childs_unanalysable_line_a_denial() -> None:
    approver = RecordingApprover(AskAnswer(decision="allow", scope="always"))
    parent = PermissionGate(NO_DENY, "default", approver)
    verdict = parent.evaluate("bash", {"command": "eval x"}, _bash("eval x"))
    assert verdict.decision == "ask"
    await parent.ask(_request(verdict.patterns))  # `always`: the line is remembered for the session
    assert parent.evaluate("bash", {"command": "eval x"}, _bash("eval x")).decision == "allow"
    child = parent.child([_rule("bash", "rm *", "deny")])
    assert child.evaluate("bash", {"command": "eval x"}, _bash("eval x")).decision == "deny"
    grandchild = child.child([_rule("bash", "*", "allow")])  # a later allow does not lift it
    assert grandchild.evaluate("bash", {"command": "eval y"}, _bash("eval y")).decision == "deny"


# git is allowed, `git push` is denied: global options before the subcommand do not walk past it
GIT_NO_PUSH = [
    *DEFAULT_RULES, _rule("bash", "git *", "allow"), _rule("bash", "git push *", "deny"),
    _rule("bash", "docker *", "allow"), _rule("bash", "docker run *", "deny"),
    _rule("bash", "kubectl *", "allow"), _rule("bash", "kubectl delete *", "deny"),
    _rule("bash", "npm *", "allow"), _rule("bash", "npm publish *", "deny"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("git push origin main", "deny"),
        ("git -C . push", "deny"),
        ("git -C sub -C . push origin", "deny"),
        ("git -c x=y push", "deny"),
        ("git -c user.name=me push", "deny"),
        ("git --no-pager push", "deny"),
        ("git -P push", "deny"),
        ("git -p push", "deny"),
        ("git --paginate push", "deny"),
        ("git --bare push", "deny"),
        ("git --git-dir=.git push", "deny"),
        ("git --git-dir .git push", "deny"),
        ("git --work-tree=. push", "deny"),
        ("git --work-tree . push", "deny"),
        ("git --namespace=x push", "deny"),
        ("git --literal-pathspecs push", "deny"),
        ("git --no-replace-objects push", "deny"),
        ("git --config-env=user.name=U push", "deny"),
        ("git -C $DIR push", "deny"),
        ("sudo git -C . push", "deny"),
        ("git -C . status", "allow"),
        ("git --no-pager log -5", "allow"),
        ("git -c user.name=me -c user.email=m@x commit -m msg", "allow"),
        ("git -c color.ui=never diff", "allow"),
        ("git --exec-path", "allow"),
        ("git -c alias.st='!rm -rf /' st", "ask"),  # the alias is read: `rm -rf /` is asked about
        ("git -c alias.st=push st", "deny"),  # the alias is read: `git st` is `git push`
        ("git -c alias.st=status st", "allow"),
        ("git -c core.hooksPath=/tmp/h commit -m x", "deny"),  # may run anything: fail closed
        ("git -c core.pager='sh -c x' log", "deny"),
        ("git -c core.sshCommand=evil fetch", "deny"),
        ("git -c include.path=/tmp/cfg status", "deny"),
        ("git --config-env=core.pager=P log", "deny"),
        ("git -c $KV status", "deny"),
        ("git --exec-path=/tmp/bin status", "deny"),
        ("git --frobnicate status", "deny"),  # an unknown global option: cannot tell the subcommand
        ("docker --context prod run img", "deny"),
        ("docker -H ssh://h run img", "deny"),
        ("docker --context prod ps", "allow"),
        ("kubectl -n prod delete pod x", "deny"),
        ("kubectl --namespace=prod delete pod x", "deny"),
        ("kubectl --context c -n ns get pods", "allow"),
        ("npm --prefix sub publish", "deny"),
        ("npm --prefix sub run build", "allow"),
    ],
)
def test_global_options_before_a_subcommand_cannot_bypass_a_deny(line: str, expected: str) -> None:
    gate = PermissionGate(GIT_NO_PUSH, "default", approver=None)
    verdict = gate.evaluate("bash", {"command": line}, _bash(line))
    assert verdict.decision == expected, verdict.reason


def test_a_git_option_that_can_run_a_program_is_asked_about_with_the_reason() -> None:
    gate = PermissionGate(GIT_NO_PUSH, "bypass", approver=None)
    line = "git -c alias.push='!rm -rf /' push"
    verdict = gate.evaluate("bash", {"command": line}, _bash(line))
    assert verdict.decision == "deny"  # the deny on `git push` still applies, even in bypass
    ask = PermissionGate([*DEFAULT_RULES, _rule("bash", "git *", "allow")], "default", approver=None)
    pager = "git -c core.pager='less -R' log"
    verdict = ask.evaluate("bash", {"command": pager}, _bash(pager))
    assert verdict.decision == "ask" and "core.pager" in verdict.reason
    assert "another program" in verdict.reason


def test_verdict_names_the_rule_and_the_command() -> None:
    gate = PermissionGate(DENY_RM, "default", approver=None)
    verdict = gate.evaluate("bash", {"command": "ls && rm -rf x"}, _bash("ls && rm -rf x"))
    assert verdict.permission == "bash" and verdict.patterns == ["rm -rf x"]
    assert "`rm *`" in verdict.reason and "rm -rf x" in verdict.reason


@pytest.mark.parametrize(
    ("line", "expected"),
    [("ls -la && git status", "allow"), ("cat a | head", "allow"), ("PATH=/x ls", "ask"), ("rm x", "ask")],
)
def test_default_rules_allow_read_only_commands(line: str, expected: str) -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    assert gate.evaluate("bash", {"command": line}, _bash(line)).decision == expected


def test_deny_beats_ask_beats_allow_across_requests() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    requests = [
        PermissionRequest(permission="read", patterns=["a.py"]),
        PermissionRequest(permission="edit", patterns=["a.py", "b.py"]),
    ]
    verdict = gate.evaluate("write", {"file_path": "a.py"}, requests)
    assert (verdict.decision, verdict.permission, verdict.patterns) == ("ask", "edit", ["a.py", "b.py"])
    gate.rules.append(_rule("edit", "b.py", "deny"))
    verdict = gate.evaluate("write", {"file_path": "b.py"}, requests)
    assert (verdict.decision, verdict.patterns) == ("deny", ["b.py"])


@pytest.mark.parametrize(
    ("mode", "permission", "decision", "read_only", "expected"),
    [
        ("default", "edit", "ask", False, "ask"),
        ("accept-edits", "edit", "ask", False, "allow"),
        ("accept-edits", "edit", "deny", False, "deny"),
        ("accept-edits", "external_directory", "ask", False, "ask"),
        ("accept-edits", "bash", "ask", False, "ask"),
        ("plan", "edit", "allow", False, "deny"),
        ("plan", "task", "allow", False, "deny"),
        ("plan", "bash", "allow", False, "deny"),
        ("plan", "bash", "allow", True, "allow"),
        ("plan", "bash", "deny", True, "deny"),
        ("plan", "read", "allow", False, "allow"),
        ("bypass", "bash", "ask", False, "allow"),
        ("bypass", "edit", "ask", False, "allow"),
        ("bypass", "bash", "deny", False, "deny"),
    ],
)
def test_apply_mode(
    mode: PermissionMode, permission: str, decision: str, read_only: bool, expected: str
) -> None:
    assert apply_mode(mode, permission, decision, read_only=read_only) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "line", "expected"),
    [
        ("plan", "ls && git diff", "allow"),
        ("plan", "ls && npm test", "deny"),
        ("plan", "cat a > b", "deny"),  # writes a file
        ("plan", "find . -delete", "deny"),
        ("plan", "eval x", "deny"),
        ("accept-edits", "echo hi > out.txt", "allow"),
        ("accept-edits", "npm test", "ask"),
        ("bypass", "npm test", "allow"),
        ("bypass", "eval x", "deny"),  # a deny rule exists: what cannot be checked is denied
        ("bypass", "rm -rf x", "deny"),
    ],
)
def test_modes_on_bash(mode: PermissionMode, line: str, expected: str) -> None:
    gate = PermissionGate([*DEFAULT_RULES, _rule("bash", "rm *", "deny")], mode, approver=None)
    assert gate.evaluate("bash", {"command": line}, _bash(line)).decision == expected


def test_plan_mode_denies_edits_and_tasks() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "plan", approver=None)
    edit = gate.evaluate("edit", {}, [PermissionRequest(permission="edit", patterns=["a.py"])])
    task = gate.evaluate("task", {}, [PermissionRequest(permission="task", patterns=["reviewer"])])
    read = gate.evaluate("read", {}, [PermissionRequest(permission="read", patterns=["a.py"])])
    assert (edit.decision, task.decision, read.decision) == ("deny", "deny", "allow")
    assert "plan mode" in edit.reason


async def test_ask_without_approver_is_a_denial_that_says_how_to_fix_it() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    verdict = gate.evaluate("bash", {"command": "npm test"}, _bash("npm test"))
    assert verdict.decision == "ask"
    answer = await gate.ask(_request(verdict.patterns))
    assert answer.decision == "deny" and answer.message == NO_APPROVER
    assert "--permission-mode" in NO_APPROVER


async def test_ask_that_is_never_answered_times_out_into_a_denial() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", SilentApprover(), ask_timeout_s=0.05)
    answer = await gate.ask(_request(["npm test"]))
    assert answer.decision == "deny" and "no answer within 0.05 s" in answer.message


async def test_allow_always_is_remembered_for_the_session() -> None:
    approver = RecordingApprover(AskAnswer(decision="allow", scope="always"))
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver)
    first = gate.evaluate("bash", {"command": "npm test"}, _bash("npm test"))
    assert first.decision == "ask"
    assert (await gate.ask(_request(first.patterns))).decision == "allow"
    again = gate.evaluate("bash", {"command": "ls && npm test"}, _bash("ls && npm test"))
    assert again.decision == "allow" and "session" in again.reason
    other = gate.evaluate("bash", {"command": "npm publish"}, _bash("npm publish"))
    assert other.decision == "ask"
    assert len(approver.requests) == 1


async def test_allow_always_covers_an_unanalysable_line_exactly() -> None:
    gate = PermissionGate(
        list(DEFAULT_RULES), "default", RecordingApprover(AskAnswer(decision="allow", scope="always"))
    )
    line = 'eval "$(direnv export bash)"'
    verdict = gate.evaluate("bash", {"command": line}, _bash(line))
    assert verdict.decision == "ask" and verdict.patterns == [line, "direnv export bash"]
    await gate.ask(_request(verdict.patterns))
    assert gate.evaluate("bash", {"command": line}, _bash(line)).decision == "allow"
    assert gate.evaluate("bash", {"command": "eval x"}, _bash("eval x")).decision == "ask"


async def test_allow_once_is_not_remembered() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", RecordingApprover(AskAnswer(decision="allow")))
    await gate.ask(_request(["npm test"]))
    assert gate.session_rules == []
    assert gate.evaluate("bash", {"command": "npm test"}, _bash("npm test")).decision == "ask"


async def test_denial_with_a_message_carries_it() -> None:
    gate = PermissionGate(
        list(DEFAULT_RULES), "default", RecordingApprover(AskAnswer(decision="deny", message="use make"))
    )
    gate.evaluate("bash", {"command": "npm test"}, _bash("npm test"))
    answer = await gate.ask(_request(["npm test"], tool_use_id="t7"))
    assert answer.decision == "deny" and answer.message == "use make"


def test_loop_guard_asks_on_the_third_identical_call_in_a_row() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    read_a = [PermissionRequest(permission="read", patterns=["a"])]
    decisions = [gate.evaluate("read", {"file_path": "a"}, read_a) for _ in range(4)]
    assert [v.decision for v in decisions] == ["allow", "allow", "ask", "ask"]
    assert "loop guard" in decisions[2].reason and "3 times" in decisions[2].reason
    read_b = [PermissionRequest(permission="read", patterns=["b"])]
    assert gate.evaluate("read", {"file_path": "b"}, read_b).decision == "allow"  # a different call resets
    assert gate.evaluate("read", {"file_path": "a"}, read_a).decision == "allow"


def test_loop_guard_never_asks_in_bypass_mode() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "bypass", approver=None)
    append = _bash("date >> log.txt")
    decisions = [gate.evaluate("bash", {"command": "date >> log.txt"}, append).decision for _ in range(4)]
    assert decisions == ["allow"] * 4


async def test_child_keeps_parent_denies_and_asks_reach_the_root_approver() -> None:
    approver = RecordingApprover(AskAnswer(decision="allow", scope="always"))
    parent = PermissionGate([*DEFAULT_RULES, _rule("bash", "rm *", "deny")], "default", approver)
    child = parent.child([_rule("bash", "*", "allow")])
    grandchild = child.child([_rule("edit", "*", "ask")])

    assert child.evaluate("bash", {"command": "rm y"}, _bash("rm y")).decision == "deny"  # parent deny kept
    assert child.evaluate("bash", {"command": "npm test"}, _bash("npm test")).decision == "allow"  # own rule
    assert parent.evaluate("bash", {"command": "npm test"}, _bash("npm test")).decision == "ask"  # not upward

    verdict = grandchild.evaluate(
        "edit", {"file_path": "a.py"}, [PermissionRequest(permission="edit", patterns=["a.py"])]
    )
    assert verdict.decision == "ask"
    await grandchild.ask(_request(["a.py"], permission="edit"))
    assert [r.permission for r in approver.requests] == ["edit"]  # reached the root's approver
    edit = [PermissionRequest(permission="edit", patterns=["a.py"])]
    assert parent.evaluate("edit", {"file_path": "a.py"}, edit).decision == "allow"  # session rule shared


@pytest.mark.parametrize(
    ("rules", "line", "expected"),
    [
        ([_rule("bash", "rm -rf /*", "deny")], "d=/; rm -rf $d", "deny"),  # `$d` may be `/`
        ([_rule("bash", "rm -rf /*", "deny")], "rm -rf ~", "deny"),  # `~` is a path only known then
        ([_rule("bash", "rm -rf /*", "deny")], "rm -rf build", "allow"),
        ([_rule("bash", "rm *", "deny"), _rule("bash", "rm -i *", "allow")], "rm -i x", "allow"),
        # decided on the deny pattern alone: the later allow does not lift it
        ([_rule("bash", "rm *", "deny"), _rule("bash", "rm -i *", "allow")], "rm -i $x", "deny"),
        ([_rule("bash", "git push*", "deny")], 'git commit -m "$msg"', "allow"),
    ],
)
def test_run_time_parts_are_denied_when_a_deny_rule_could_match_them(
    rules: list[PermissionRule], line: str, expected: str
) -> None:
    verdict = _decide([*NO_DENY, *rules], "bypass", line)
    assert verdict.decision == expected, verdict.reason
