"""An attacker's seat: `subagent run` as an unprivileged user, HOME and workspace outside /tmp.

The sandbox hides the host's /tmp, so a HOME or workspace under /tmp would be hidden by accident
and prove nothing: a `Site` lives under /var/tmp. When the tests run as root, every process of the
site (the runtime under attack and the control commands) runs as `nobody`, so file modes and the
kernel's checks are the ones an ordinary user has.

A test scripts the model's tool calls (`Call`s, one list per turn), runs them with `Site.run`
against a local Messages API server, and reads what each call answered (`Outcome.results`). Every
attack is first shown to work without the protection: `Site.as_attacker` runs the same action as a
plain process of the same user, with the same HOME (the control).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT
from tests.model import sse
from tests.model.messages_server import MessagesServer

NOBODY = 65534
API_KEY_CANARY = "sk-ant-api03-CANARY-the-runtime-key-must-never-leak"
SECRET_CANARY = "CANARY-SECRET-id_rsa-9f8e7d"


@dataclass(frozen=True)
class Call:
    """One tool call the scripted model makes."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ToolAnswer:
    """What one call answered, as the model read it (the tool_result sent in the next request)."""

    name: str
    input: dict[str, Any]
    text: str
    is_error: bool


@dataclass
class Outcome:
    """What one `subagent run` did."""

    returncode: int
    stdout: str
    stderr: str
    requests: list[dict[str, Any]]
    calls: list[Call]

    @property
    def events(self) -> list[dict[str, Any]]:
        """The stream-json lines (empty for other output modes)."""
        out = []
        for line in self.stdout.splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    @property
    def results(self) -> list[ToolAnswer]:
        """Every scripted call's answer, in the order the calls were made."""
        answers: dict[str, tuple[str, bool]] = {}
        for request in self.requests:
            for message in request.get("messages", []):
                if message["role"] != "user" or isinstance(message["content"], str):
                    continue
                for block in message["content"]:
                    if block.get("type") == "tool_result":
                        answers[block["tool_use_id"]] = (_result_text(block), bool(block.get("is_error")))
        out = []
        for index, call in enumerate(self.calls):
            text, is_error = answers.get(f"toolu_attack_{index}", ("(no answer reached the model)", True))
            out.append(ToolAnswer(call.name, call.input, text, is_error))
        return out

    def everything_the_model_saw(self) -> str:
        """Every request body, as one string: what left the machine for the API."""
        return json.dumps(self.requests)


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def _script(
    turns: Sequence[Sequence[Call]], final_text: str, then: Sequence[str] = ()
) -> tuple[list[str], list[Call]]:
    replies: list[str] = []
    calls: list[Call] = []
    for turn in turns:
        blocks = []
        for position, call in enumerate(turn):
            blocks.append(sse.tool_block(position, f"toolu_attack_{len(calls)}", call.name, call.input))
            calls.append(call)
        replies.append(sse.reply(*blocks, stop_reason="tool_use"))
    replies += [sse.reply(sse.text_block(0, text)) for text in (final_text, *then)]
    return replies, calls


@dataclass
class Site:
    """A HOME, a workspace (a git repository with one commit) and the runtime's own dirs, all
    owned by the attacking user and outside /tmp."""

    root: Path
    uid: int
    gid: int
    home: Path = field(init=False)
    workspace: Path = field(init=False)
    data: Path = field(init=False)
    config: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.workspace = self.home / "project"
        self.data = self.home / ".local" / "share" / "subagent"
        self.config = self.home / ".config"

    # --- files -----------------------------------------------------------------------------
    def write(self, path: Path | str, text: str, mode: int = 0o644) -> Path:
        """Write a file as the site's owner (relative paths are under HOME)."""
        target = Path(path) if Path(path).is_absolute() else self.home / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
        self.own(target)
        return target

    def own(self, path: Path) -> None:
        """Give `path` and every folder between it and the site's root to the attacking user."""
        if os.getuid() != 0:
            return
        for current in (path, *path.parents):
            if current == self.root.parent:
                break
            os.chown(current, self.uid, self.gid, follow_symlinks=False)
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                for name in (*dirnames, *filenames):
                    os.chown(os.path.join(dirpath, name), self.uid, self.gid, follow_symlinks=False)

    # --- processes -------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment for the attacking user: no variable of the test process leaks in."""
        venv_bin = str(Path(sys.executable).parent)
        env = {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "USER": "nobody" if os.getuid() == 0 else os.environ.get("USER", "user"),
            "LANG": "C.UTF-8",
            "SUBAGENT_HOME": str(self.data),
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "GIT_AUTHOR_NAME": "a",
            "GIT_AUTHOR_EMAIL": "a@example.com",
            "GIT_COMMITTER_NAME": "a",
            "GIT_COMMITTER_EMAIL": "a@example.com",
        }
        env.update(extra)
        return env

    def _user(self) -> dict[str, Any]:
        if os.getuid() != 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def as_attacker(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        timeout: float = 60,
        input: str | None = None,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run a plain process as the attacking user, with the site's HOME: the control that shows
        an attack works without the runtime's protection."""
        return subprocess.run(
            list(argv),
            cwd=cwd or self.workspace,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            **self._user(),
        )

    def shell(self, script: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        """`bash -c script` as the attacking user (the control for a bash attack)."""
        return self.as_attacker(["bash", "-c", script], **kw)

    def subagent(
        self, *args: str, timeout: float = 120, input: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """`subagent ARGS` as the attacking user (`trust`, `agents list`, ...)."""
        return self.as_attacker([sys.executable, "-m", "agent", *args], timeout=timeout, input=input, **env)

    def run(
        self,
        turns: Sequence[Sequence[Call]],
        *,
        mode: str | None = "bypass",
        args: Sequence[str] = (),
        prompt: str = "do the task",
        agent: str = "backend-engineer",
        output: str = "stream-json",
        final_text: str = "done",
        then: Sequence[str] = (),
        timeout: float = 180,
        during: Callable[[], None] | None = None,
        **env: str,
    ) -> Outcome:
        """`subagent run` with the scripted tool calls, as the attacking user, against a local
        Messages API server; `mode=None` passes no `--permission-mode`. `during` runs in this
        process while the run is going (after it started), e.g. to start a racing process. `then`
        are more final replies, in order, for runs with subagents (each agent ends with one)."""
        replies, calls = _script(turns, final_text, then)
        with MessagesServer(replies) as server:
            argv = [
                sys.executable,
                "-m",
                "agent",
                "run",
                prompt,
                "--agent",
                agent,
                "--cwd",
                str(self.workspace),
                "--output",
                output,
                *args,
            ]
            if mode is not None:
                argv += ["--permission-mode", mode]
            proc = subprocess.Popen(
                argv,
                cwd=self.workspace,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=self.env(ANTHROPIC_API_KEY=API_KEY_CANARY, ANTHROPIC_BASE_URL=server.url, **env),
                **self._user(),
            )
            if during is not None:
                during()
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = proc.communicate()
                raise AssertionError(f"the run hung for {timeout}s; stderr: {stderr[-2000:]}") from None
            return Outcome(proc.returncode, stdout, stderr, list(server.requests), calls)


@functools.cache
def can_drop_privileges() -> str | None:
    """None when the site's user can run this checkout's interpreter, else why not. Asked once per
    test process: the probe imports anthropic as that user (1.5 s of CPU) and its answer cannot
    change during a run."""
    if os.getuid() != 0:
        return None
    probe = subprocess.run(
        [sys.executable, "-c", "import agent, anthropic"],
        cwd="/",
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
    )
    if probe.returncode == 0:
        return None
    return (
        f"uid {NOBODY} cannot run {sys.executable} ({probe.stderr.strip()[-200:]}); make the "
        "interpreter reachable to other users (CI: `chmod o+x /root`, see .ci/run)"
    )


def make_site() -> Site:
    """A fresh site under /var/tmp with a HOME holding secrets and a workspace with one commit."""
    root = Path(tempfile.mkdtemp(prefix="subagent-attack-", dir="/var/tmp")).resolve()
    root.chmod(0o755)
    uid = gid = NOBODY if os.getuid() == 0 else -1
    if uid == -1:
        uid, gid = os.getuid(), os.getgid()
    site = Site(root, uid, gid)
    for folder in (site.home, site.workspace, site.data, site.config):
        folder.mkdir(parents=True, exist_ok=True)
    site.home.chmod(0o700)
    site.write(".ssh/id_rsa", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET_CANARY}\n", 0o600)
    site.write(".bashrc", "# the user's shell start-up\n")
    site.write("project/README.md", "# a project\n")
    site.write("project/app.py", "print('hello')\n")
    site.own(site.root)
    done = site.shell("git init -q && git add -A && git commit -qm init", cwd=site.workspace)
    assert done.returncode == 0, done.stderr
    return site


def remove_site(site: Site) -> None:
    shutil.rmtree(site.root, ignore_errors=True)
