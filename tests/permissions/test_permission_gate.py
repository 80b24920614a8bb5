"""The gate: bash decisions under rule sets and modes, deny rules that cannot be walked past."""

from __future__ import annotations

import pytest

from agent.permissions.gate import GateVerdict, PermissionGate
from agent.permissions.models import AskAnswer, PermissionMode, PermissionRule
from agent.permissions.modes import apply_mode
from agent.permissions.rules import DEFAULT_RULES
from agent.tool import PermissionRequest
from tests.permissions.approvers import RecordingApprover, ask_request, bash_requests, rule

# bash is allowed in general, `rm` is denied: no way around the deny
DENY_RM = [*DEFAULT_RULES, rule("bash", "*", "allow"), rule("bash", "rm *", "deny")]


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
    verdict = gate.evaluate("bash", {"command": line}, bash_requests(line))
    assert verdict.decision == expected, verdict.reason


NO_DENY = [*DEFAULT_RULES, rule("bash", "*", "allow")]


def _decide(rules: list[PermissionRule], mode: PermissionMode, line: str) -> GateVerdict:
    return PermissionGate(rules, mode, approver=None).evaluate("bash", {"command": line}, bash_requests(line))


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
    rules = [*NO_DENY, rule("bash", "terraform destroy*", "deny")]
    for mode in ("default", "accept-edits", "plan", "bypass"):
        verdict = _decide(rules, mode, "eval x")
        assert verdict.decision == "deny", mode
        assert "terraform destroy*" in verdict.reason and "`eval` runs a string" in verdict.reason
    denied_elsewhere = [*NO_DENY, rule("edit", "secrets/*", "deny")]  # only bash deny rules count
    assert _decide(denied_elsewhere, "bypass", "eval x").decision == "allow"


async def test_a_parents_deny_rule_makes_a_childs_unanalysable_line_a_denial() -> None:
    approver = RecordingApprover(AskAnswer(decision="allow", scope="always"))
    parent = PermissionGate(NO_DENY, "default", approver)
    verdict = parent.evaluate("bash", {"command": "eval x"}, bash_requests("eval x"))
    assert verdict.decision == "ask"
    await parent.ask(ask_request(verdict.patterns))  # `always`: the line is remembered for the session
    assert parent.evaluate("bash", {"command": "eval x"}, bash_requests("eval x")).decision == "allow"
    child = parent.child([rule("bash", "rm *", "deny")])
    assert child.evaluate("bash", {"command": "eval x"}, bash_requests("eval x")).decision == "deny"
    grandchild = child.child([rule("bash", "*", "allow")])  # a later allow does not lift it
    assert grandchild.evaluate("bash", {"command": "eval y"}, bash_requests("eval y")).decision == "deny"


# git is allowed, `git push` is denied: global options before the subcommand do not walk past it
GIT_NO_PUSH = [
    *DEFAULT_RULES, rule("bash", "git *", "allow"), rule("bash", "git push *", "deny"),
    rule("bash", "docker *", "allow"), rule("bash", "docker run *", "deny"),
    rule("bash", "kubectl *", "allow"), rule("bash", "kubectl delete *", "deny"),
    rule("bash", "npm *", "allow"), rule("bash", "npm publish *", "deny"),
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
    verdict = gate.evaluate("bash", {"command": line}, bash_requests(line))
    assert verdict.decision == expected, verdict.reason


def test_a_git_option_that_can_run_a_program_is_asked_about_with_the_reason() -> None:
    gate = PermissionGate(GIT_NO_PUSH, "bypass", approver=None)
    line = "git -c alias.push='!rm -rf /' push"
    verdict = gate.evaluate("bash", {"command": line}, bash_requests(line))
    assert verdict.decision == "deny"  # the deny on `git push` still applies, even in bypass
    ask = PermissionGate([*DEFAULT_RULES, rule("bash", "git *", "allow")], "default", approver=None)
    pager = "git -c core.pager='less -R' log"
    verdict = ask.evaluate("bash", {"command": pager}, bash_requests(pager))
    assert verdict.decision == "ask" and "core.pager" in verdict.reason
    assert "another program" in verdict.reason


def test_verdict_names_the_rule_and_the_command() -> None:
    gate = PermissionGate(DENY_RM, "default", approver=None)
    verdict = gate.evaluate("bash", {"command": "ls && rm -rf x"}, bash_requests("ls && rm -rf x"))
    assert verdict.permission == "bash" and verdict.patterns == ["rm -rf x"]
    assert "`rm *`" in verdict.reason and "rm -rf x" in verdict.reason


@pytest.mark.parametrize(
    ("line", "expected"),
    [("ls -la && git status", "allow"), ("cat a | head", "allow"), ("PATH=/x ls", "ask"), ("rm x", "ask")],
)
def test_default_rules_allow_read_only_commands(line: str, expected: str) -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    assert gate.evaluate("bash", {"command": line}, bash_requests(line)).decision == expected


def test_deny_beats_ask_beats_allow_across_requests() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    requests = [
        PermissionRequest(permission="read", patterns=["a.py"]),
        PermissionRequest(permission="edit", patterns=["a.py", "b.py"]),
    ]
    verdict = gate.evaluate("write", {"file_path": "a.py"}, requests)
    assert (verdict.decision, verdict.permission, verdict.patterns) == ("ask", "edit", ["a.py", "b.py"])
    gate.rules.append(rule("edit", "b.py", "deny"))
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
def test_modes_onbash_requests(mode: PermissionMode, line: str, expected: str) -> None:
    gate = PermissionGate([*DEFAULT_RULES, rule("bash", "rm *", "deny")], mode, approver=None)
    assert gate.evaluate("bash", {"command": line}, bash_requests(line)).decision == expected


def test_plan_mode_denies_edits_and_tasks() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "plan", approver=None)
    edit = gate.evaluate("edit", {}, [PermissionRequest(permission="edit", patterns=["a.py"])])
    task = gate.evaluate("task", {}, [PermissionRequest(permission="task", patterns=["reviewer"])])
    read = gate.evaluate("read", {}, [PermissionRequest(permission="read", patterns=["a.py"])])
    assert (edit.decision, task.decision, read.decision) == ("deny", "deny", "allow")
    assert "plan mode" in edit.reason


@pytest.mark.parametrize(
    ("rules", "line", "expected"),
    [
        ([rule("bash", "rm -rf /*", "deny")], "d=/; rm -rf $d", "deny"),  # `$d` may be `/`
        ([rule("bash", "rm -rf /*", "deny")], "rm -rf ~", "deny"),  # `~` is a path only known then
        ([rule("bash", "rm -rf /*", "deny")], "rm -rf build", "allow"),
        ([rule("bash", "rm *", "deny"), rule("bash", "rm -i *", "allow")], "rm -i x", "allow"),
        # decided on the deny pattern alone: the later allow does not lift it
        ([rule("bash", "rm *", "deny"), rule("bash", "rm -i *", "allow")], "rm -i $x", "deny"),
        ([rule("bash", "git push*", "deny")], 'git commit -m "$msg"', "allow"),
    ],
)
def test_run_time_parts_are_denied_when_a_deny_rule_could_match_them(
    rules: list[PermissionRule], line: str, expected: str
) -> None:
    verdict = _decide([*NO_DENY, *rules], "bypass", line)
    assert verdict.decision == expected, verdict.reason
