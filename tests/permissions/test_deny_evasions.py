"""Deny rules fail closed: a corpus of ways around `rm *` and `git push*`, each denied in every mode.

Rules: everything allowed, `rm *` and `git push*` denied. Each evasion below runs `rm` or
`git push` (or may, depending on what it finds when it runs); none may be allowed, and none may
be a mere ask that a person (or bypass mode) could wave through. The false-positive side:
ordinary commands stay allowed under the same rules.

The corpus was committed first as strict xfails (every line got through: allowed, or only
asked), then flipped with the analysis that denies them.
"""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.permissions.gate import PermissionGate
from agent.permissions.models import PermissionMode, PermissionRule
from agent.permissions.rules import DEFAULT_RULES
from agent.tool import PermissionRequest


def _rule(pattern: str, decision: str) -> PermissionRule:
    return PermissionRule(permission="bash", pattern=pattern, decision=decision)  # type: ignore[arg-type]


DENY_RM_AND_PUSH = [*DEFAULT_RULES, _rule("*", "allow"), _rule("rm *", "deny"), _rule("git push*", "deny")]

EVASIONS: dict[str, list[str]] = {
    "assignments": [
        "PATH=$PATH rm victim",
        "GIT_TRACE=0 git push origin main",
        "LD_PRELOAD= rm victim",
        "IFS=: rm victim",
        "BASH_ENV=planted.sh bash -c true",
        "PS4='$(rm victim)' bash -xc true",
        "env PATH=/tmp/evil ls",
        "sudo PATH=/tmp/evil ls",
        "env 'BASH_FUNC_ls%%=() { rm victim; }' bash -c ls",
        "read -r PATH <<< /tmp/evil; ls",
        "declare -n r=PATH; r=/tmp/evil; ls",
        "printf -v PATH /tmp/evil; ls",
        "unset PATH; : ${PATH:=/tmp/evil}; ls",
        "export GIT_CONFIG_PARAMETERS=\"'alias.p'='push'\"; git p origin main",
    ],
    "git config": [
        "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push git p origin main",
        "GIT_CONFIG_PARAMETERS=\"'alias.p'='push'\" git p origin main",
        "GIT_CONFIG_GLOBAL=planted.cfg git p origin main",
        "git -c alias.p=push p origin main",
        "git -c alias.p='-p push' p origin main",
        "git -c alias.x='!rm -rf victim' x",
        "git -c core.sshCommand='rm -rf victim' fetch origin",
        "git --config-env=alias.p=P p origin main",
    ],
    "names": [
        "$'\\x72\\x6d' victim",
        "$'\\162\\155' victim",
        "$'r\\u006d' victim",
        "git $'\\x70ush' origin main",
        '$"rm" victim',
        "git-push origin main",
        "/usr/lib/git-core/git-push origin main",
        "../../bin/rm victim",
        "/bin/r[m] victim",
    ],
    "wrappers": [
        "chrt -f 10 rm victim",
        "taskset -c 0 rm victim",
        "prlimit --nofile=10 rm victim",
        "flock /tmp/lock rm victim",
        "flock /tmp/lock -c 'rm victim'",
        "flock -c 'rm victim' /tmp/lock",
        "script -qc 'rm victim' /dev/null",
        "strace -f -o /dev/null rm victim",
        "strace -o '|rm victim' true",
        "fakeroot rm victim",
        "ssh-agent rm victim",
        "dbus-run-session -- rm victim",
        "unshare -r rm victim",
        "setpriv --reuid=1000 rm victim",
        "nsenter -t 1 -m rm victim",
        "runuser -u nobody -- rm victim",
        "su -c 'rm victim'",
        "sg root -c 'rm victim'",
        "firejail --quiet rm victim",
        "systemd-run --user --scope rm victim",
        "ltrace rm victim",
        "parallel rm ::: victim",
        "busybox rm victim",
        "chroot / rm victim",
        "pkexec rm victim",
        "valgrind -q rm victim",
        "uv run rm victim",
        "npx rm victim",
        "env -S'-i rm victim'",
        "timeout $o 5 rm victim",
    ],
    "shells": [
        "bash -o errexit <<< 'rm victim'",
        "bash -c -o errexit 'rm victim'",
        "bash /dev/stdin <<< 'rm victim'",
        "bash <(echo rm victim)",
        "xargs -I{} sh -c {} < commands.txt",
    ],
    "run-time parts": [
        "echo push | xargs git",
        "find . -name push -exec git {} origin \\;",
        "git pu?h origin main",
        "git pu{s,}h origin main",
        "git $(echo push) origin main",
        "s=push; git $s origin main",
    ],
    "unanalysable": [
        "eval 'rm victim'",
        "x=rm; $x victim",
        "$(echo rm) victim",
        "`echo rm` victim",
        "${x:-rm} victim",
        "<(echo rm) victim",
        "alias r=rm",
        "shopt -s expand_aliases\nalias ls='rm victim'\nls",
        'f() { "$@"; }; f rm victim',
        "source ./s.sh",
        ". ./s.sh",
        "cat <<EOF | sh\nrm victim\nEOF",
        "sh <<< 'rm victim'",
        "bash -s < script.sh",
        "exec bash <<< 'rm victim'",
        "trap 'rm victim' EXIT",
        "coproc rm victim",
        "hash -p /bin/rm ls; ls victim",
        "enable -f ./evil.so ls; ls",
        "mapfile -C 'rm victim' -c 1 lines < list",
    ],
    "arithmetic": [
        "x='a[$(rm victim)]'; echo $((x))",
        "x='a[$(rm victim)]'; [[ $x -eq 1 ]]",
        'test -v "$x"',
    ],
}

DENIED_ALREADY = [
    "cd / && rm -rf ~",
    "watch -x rm victim",
    "nice -n 5 ionice -c3 stdbuf -oL nohup rm victim",
    "xargs sh -c 'rm victim'",
    "\\rm victim",
    "env FOO=1 rm victim",
    "sudo -u root rm victim",
    "sh -c 'ls && rm victim'",
    "git -C . push origin",
]

ORDINARY = [
    "git status",
    "PYTHONPATH=. pytest -q",
    "timeout 60 pytest",
    "find . -name '*.py' | xargs grep foo",
    "ls *.py",
    "for f in *.py; do black $f; done",
    'git commit -m "$msg"',
    "cat $f",
    "npm test && git log --oneline -5",
    "nice -n 5 make -j4",
    "git -c user.name=me commit -m msg",
    "echo $(( 1 + 2 ))",
    "for i in 1 2 3; do echo $((i * 2)); done",
    "sh -c 'ls'",
    "bash -lc 'npm test'",
    "xargs -0 grep foo < list",
    "git -C sub status",
    "echo 'rm victim'",
    "cat <<'EOF'\n$(rm victim)\nEOF",
    "rmdir build",
    "git pull --rebase",
    "NODE_ENV=test npm test",
    "env -u HOME ls",
    "make 2>&1 | tee build.log",
]


def _decide(line: str, mode: PermissionMode, rules: list[PermissionRule] = DENY_RM_AND_PUSH) -> str:
    gate = PermissionGate(rules, mode, approver=None)
    request = [PermissionRequest(permission="bash", patterns=[line])]
    verdict = gate.evaluate("bash", {"command": line}, request)
    return f"{verdict.decision}: {verdict.reason}"


def _cases() -> list[object]:
    return [
        pytest.param(line, id=f"{category}: {line[:50]}")
        for category, lines in EVASIONS.items()
        for line in lines
    ]


@pytest.mark.parametrize("mode", ["default", "bypass"])
@pytest.mark.parametrize("line", _cases())
def test_an_evasion_is_denied(line: str, mode: PermissionMode) -> None:
    assert _decide(line, mode).startswith("deny: ")


@pytest.mark.parametrize("mode", ["default", "bypass"])
@pytest.mark.parametrize("line", DENIED_ALREADY)
def test_what_was_denied_stays_denied(line: str, mode: PermissionMode) -> None:
    assert _decide(line, mode).startswith("deny: ")


@pytest.mark.parametrize("mode", ["default", "bypass"])
@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_commands_stay_allowed(line: str, mode: PermissionMode) -> None:
    assert _decide(line, mode).startswith("allow: ")


_PREFIXES = [
    "timeout 5", "timeout -s KILL 5", "nice -n 5", "nice", "nohup", "env", "env FOO=1", "env -i",
    "env -u HOME", "stdbuf -oL", "setsid -w", "chrt -o 0", "taskset -c 0", "prlimit --nofile=100",
    "flock /tmp/l", "ionice -c3", "command", "exec", "builtin", "time -p", "sudo -u root", "doas",
    "fakeroot", "ssh-agent", "dbus-run-session --", "unshare -r", "setpriv --nnp", "runuser -u root --",
    "strace -f -o /dev/null", "xargs", "xargs -0 -r", "busybox", "uv run", "npx", "FOO=1", "GIT_TRACE=0",
    "watch -x", "coproc",
]  # fmt: skip
_SCRIPTS = [
    "sh -c {}", "bash -c {}", "bash -e -c {}", "dash -c {}", "su -c {}", "flock /tmp/l -c {}",
    "script -qc {} /dev/null", "watch -n 1 {}", "env -S{}", "find . -exec sh -c {} \\;", "eval {}",
    "git -c alias.x=\\!{} x", "parallel {} ::: 1", "sg root -c {}",
]  # fmt: skip


@st.composite
def _wrapped(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(["rm -rf victim", "git push origin main", "git -C . push"]))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        if draw(st.booleans()):
            line = f"{draw(st.sampled_from(_PREFIXES))} {line}"
        else:
            line = draw(st.sampled_from(_SCRIPTS)).format(shlex.quote(line))
    return line


@settings(max_examples=200, deadline=None)
@given(_wrapped(), st.sampled_from(["default", "bypass"]))
def test_a_denied_command_in_any_chain_of_wrappers_is_denied(line: str, mode: PermissionMode) -> None:
    assert _decide(line, mode).startswith("deny: "), line
