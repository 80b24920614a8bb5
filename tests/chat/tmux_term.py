"""A real terminal for tests: one private tmux server per test, keys in, screen out.

Polls the screen with a deadline instead of sleeping fixed times: a slow machine only makes the
test slower, never flaky.
"""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

WIDTH, HEIGHT = 120, 40


class TmuxTerminal:
    """`subagent chat` (or any command) running in a detached tmux session."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.socket = f"subagent-test-{uuid.uuid4().hex[:10]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # Keep the pane after the program ends, so its last words can be read. COLUMNS (set by
        # pytest) would pin rich to 80 columns whatever the terminal says.
        run = f"env -u COLUMNS -u LINES {exports} {shlex.join(argv)}"
        command = f"cd {shlex.quote(str(cwd))} && {run}; echo '[exited]'; sleep 600"
        self._tmux("new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), "-s", "main", command)

    def _tmux(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return proc.stdout

    def screen(self, history: bool = False) -> str:
        """What the terminal shows (with `history`, the scrollback too)."""
        extra = ["-S", "-2000"] if history else []
        return self._tmux("capture-pane", "-p", "-t", "main", *extra)

    def screen_with_attributes(self) -> str:
        """The visible screen with its colours and attributes as SGR sequences (`\\x1b[8m`: concealed)."""
        return self._tmux("capture-pane", "-p", "-e", "-t", "main")

    def send(self, *keys: str) -> None:
        """tmux key names (`Enter`, `C-c`, `C-d`) or literal text."""
        self._tmux("send-keys", "-t", "main", *keys)

    def type_line(self, text: str) -> None:
        self._tmux("send-keys", "-t", "main", "-l", text)
        self.send("Enter")

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {timeout}s; screen:\n{self.screen(history=True)}")
            time.sleep(0.1)

    def wait_for(self, text: str, timeout: float = 30, count: int = 1) -> str:
        """Wait until `text` appears `count` times in the scrollback; returns the scrollback."""
        self._wait(lambda: self.screen(history=True).count(text) >= count, f"no {text!r} (x{count})", timeout)
        return self.screen(history=True)

    def last_lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen().splitlines() if line.strip()]

    def _line_above_status(self) -> tuple[str, str]:
        lines = self.last_lines()
        return (lines[-2], lines[-1]) if len(lines) >= 2 else ("", "")

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait for an empty chat prompt: `›` right above the status line, and no turn running."""

        def idle() -> bool:
            line, status = self._line_above_status()
            return line == "›" and "working" not in status

        self._wait(idle, "no idle prompt", timeout)

    def wait_ask(self, timeout: float = 30) -> None:
        """Wait for a permission question waiting for its answer."""
        self._wait(lambda: self._line_above_status()[0] == "allow? y/a/n >", "no permission ask", timeout)

    def pane_title(self) -> str:
        """The title programs set with OSC 0/2 (what a terminal window would show)."""
        return self._tmux("display-message", "-p", "-t", "main", "#{pane_title}").strip()

    def paste_buffers(self) -> str:
        """tmux's paste buffers: where an OSC 52 clipboard write lands with `set-clipboard on`."""
        return self._tmux("list-buffers")

    def accept_clipboard_writes(self) -> None:
        """Let programs write tmux's clipboard with OSC 52, as a terminal that honours it would."""
        self._tmux("set-option", "-s", "set-clipboard", "on")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
