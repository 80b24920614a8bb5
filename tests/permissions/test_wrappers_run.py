"""The wrapper table agrees with the real programs: what the analysis says runs is what runs.

Each line wraps a probe program (which logs its arguments) in a wrapper with options. The
analysis must find `probe a b` among the commands and be able to check the whole line; running
the line with bash must make the probe log `a b`. A table entry that read a wrapper's options
wrongly would find another command (`5 probe a b`) or none, or the real run would not log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from agent.permissions.bash_parse import analyse_bash
from agent.permissions.rules import could_match

PROBE = "probe-7f3"
_BUILTINS = frozenset({"command", "exec"})

LINES = [
    "timeout -s KILL 5 {p} a b",
    "timeout --signal=KILL -k 1 5 {p} a b",
    "nice -n 5 {p} a b",
    "nice -5 {p} a b",
    "ionice -c3 {p} a b",
    "ionice -c 3 -n 7 {p} a b",
    "stdbuf -oL -e0 {p} a b",
    "nohup {p} a b",
    "setsid -w {p} a b",
    "chrt -o 0 {p} a b",
    "taskset -c 0 {p} a b",
    "taskset 1 {p} a b",
    "prlimit --nofile=100 {p} a b",
    "prlimit -n100 --as=unlimited {p} a b",
    "flock {dir}/lock {p} a b",
    "flock -x -w 3 {dir}/lock {p} a b",
    "flock {dir}/lock -c '{p} a b'",
    "script -qc '{p} a b' /dev/null",
    "script -q -e -c '{p} a b' /dev/null",
    "strace -f -o /dev/null {p} a b",
    "strace -qq -e trace=none {p} a b",
    "fakeroot {p} a b",
    "fakeroot -- {p} a b",
    "ssh-agent {p} a b",
    "ssh-agent -t 10 {p} a b",
    "dbus-run-session -- {p} a b",
    "setpriv --nnp {p} a b",
    "env -u HOME -C / {p} a b",
    "env -S'{p} a b'",
    "env --split-string='-u HOME {p} a b'",
    "env -- FOO=1 {p} a b",
    "printf 'a\\nb\\n' | xargs {p}",
    "printf 'a\\n' | xargs -I{{}} {p} {{}} b",
    "printf 'a b' | xargs -r -n 2 {p}",
    "find {dir} -maxdepth 0 -exec {p} a b \\;",
    "command {p} a b",
    "exec {p} a b",
    "time -p {p} a b",
    "sh -c '{p} a b'",
    "bash -c -o errexit '{p} a b'",
    "bash -e +x -c '{p} a b'",
    "dash -ec '{p} a b'",
    "git -c alias.p='!{p} a b' p",
    "git -c alias.q='!{p}' q a b",
    "git -c alias.s='-c alias.t=x' -c alias.p='!{p} a b' p",
    "$'{dir}/bin/\\x70robe-7f3' a b",
]

GIT_ENV_CONFIG = [
    "GIT_CONFIG_PARAMETERS=\"'alias.p'='!{p} a b'\" git p",
    "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0='!{p} a b' git p",
]
"""git reads its config from the environment, so the alias is found; the alias's program gets
that environment too, and a program that is not git but may run git with it is a doubt."""

AS_ROOT = [
    "chrt -f 10 {p} a b",
    "unshare -r {p} a b",
    "unshare --map-root-user --fork {p} a b",
    "setpriv --reuid=0 --clear-groups {p} a b",
    "runuser -u root -- {p} a b",
    "su root -c '{p} a b'",
    "su -c '{p} a b' root",
    "sg root -c '{p} a b'",
    "sg root '{p} a b'",
    "chroot / {p} a b",
]
"""Wrappers that need root to run here (the analysis is checked either way)."""


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / PROBE
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {tmp_path}/log\n")
    script.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    "line",
    [*LINES, *(pytest.param(x, marks=pytest.mark.root) for x in AS_ROOT), *GIT_ENV_CONFIG],
)
def test_the_analysis_finds_what_the_wrapper_really_runs(
    line: str, probe: Path, request: pytest.FixtureRequest
) -> None:
    command = line.format(p=probe / "bin" / PROBE, dir=probe)
    analysis = analyse_bash(command)
    if line in GIT_ENV_CONFIG:
        assert analysis.reason.startswith("`GIT_CONFIG_"), analysis.reason
        assert "for a command that is not git" in analysis.reason
    else:
        assert not analysis.unanalysable, analysis.reason
    found = [c.text for c in analysis.commands if could_match(f"{PROBE} a b", c.template)]
    assert found, [c.text for c in analysis.commands]

    wrapper = command.split()[0]
    installed = "=" in wrapper or "/" in wrapper or wrapper in _BUILTINS or shutil.which(wrapper)
    if not installed:
        pytest.skip(f"{wrapper} is not installed here")
    if request.node.get_closest_marker("root") and os.getuid() != 0:
        pytest.skip("needs root to run")
    run = subprocess.run(
        ["bash", "-c", command], cwd=probe, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert (probe / "log").read_text() == "a b\n", run.stderr
