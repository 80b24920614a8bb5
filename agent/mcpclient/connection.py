"""One running MCP server: started when first needed (or in the background), spoken to with the
`mcp` SDK's client, stopped with the run.

The SDK's `Client` must be entered and left in one task, so each server has an owner task that
holds it open until `close()`; calls come from the tool tasks of any agent of the run. A stdio
server runs as the user, outside the bash sandbox (as in Claude Code), with the SDK's small
default environment (PATH, HOME, USER, SHELL, TERM, LOGNAME) plus its own `env`: never the
runtime's API key. On Linux it is started through a launcher that asks the kernel to kill it when
the runtime dies, so a killed run leaves no server behind. Its stderr goes to a file in the run's
output folder; a server that fails to start, crashes or times out is an `McpServerError` naming it
and quoting that file's last lines. One that failed to start is not started again in the run; one
that crashed later is, on the next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import IO, Any

from agent.errors import McpServerError
from agent.mcpclient.config import RemoteServer, ServerDef, StdioServer, expanded

STDERR_TAIL_LINES = 20

_LAUNCH = (
    "import ctypes,os,signal,sys\n"
    "ctypes.CDLL(None).prctl(1,signal.SIGKILL)\n"  # PR_SET_PDEATHSIG: die with the runtime
    "os.getppid()==int(sys.argv[1]) or os._exit(1)\n"  # the runtime died before the line above
    "os.execvp(sys.argv[2],sys.argv[2:])\n"
)


def launch_argv(command: str, args: list[str]) -> tuple[str, list[str]]:
    """The program and arguments that start a stdio server (through the launcher on Linux)."""
    if not sys.platform.startswith("linux"):
        return command, list(args)
    return sys.executable, ["-I", "-S", "-c", _LAUNCH, str(os.getpid()), command, *args]


class ServerConnection:
    """A server of the run; `session()` starts it on first use and shares it afterwards."""

    def __init__(self, server: ServerDef, *, cwd: Path, log_dir: Path) -> None:
        self.server = server
        self.cwd = cwd
        self.log_path = log_dir / f"mcp-{server.name}.stderr"
        self._lock = asyncio.Lock()
        self._client: Any = None
        self._owner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._log: IO[str] | None = None
        self.starts = 0
        """How many times the server was started (a crashed one is started again on the next call)."""
        self._closed = False
        self.start_error: McpServerError | None = None
        """Why it failed to start: every later use answers with it (it is not started again)."""

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def offers_resources(self) -> bool:
        """Whether the running server announced resources or prompts."""
        caps = getattr(self._client, "server_capabilities", None) if self._client is not None else None
        return caps is not None and (caps.resources is not None or caps.prompts is not None)

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr ("" when none)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-STDERR_TAIL_LINES:])

    def failure(self, reason: str) -> McpServerError:
        tail = self.stderr_tail()
        return McpServerError(self.name, f"{reason}" + (f"\nits stderr ends with:\n{tail}" if tail else ""))

    async def session(self) -> Any:
        """The connected `mcp.Client`, starting the server if it is not running.

        Raises:
            McpServerError: it could not be started or did not answer within its start timeout.
        """
        async with self._lock:
            if self._closed:  # a call that outlived its run or session: no new server behind its back
                raise McpServerError(self.name, "stopped: the run or session that used it has ended")
            if self.start_error is not None:
                raise self.start_error
            if self._client is not None and self._owner is not None and not self._owner.done():
                return self._client
            await self._stop_owner()
            return await self._start()

    async def _start(self) -> Any:
        self.starts += 1
        ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._owner = asyncio.create_task(self._own(ready), name=f"mcp-server-{self.name}")
        try:
            self._client = await asyncio.wait_for(asyncio.shield(ready), self.server.start_timeout_s)
        except TimeoutError:
            await self._stop_owner(at_once=True)
            self.start_error = self.failure(f"did not start within {self.server.start_timeout_s:g} s")
            raise self.start_error from None
        except McpServerError as exc:
            await self._stop_owner(at_once=True)
            self.start_error = exc
            raise
        except BaseException:  # cancelled while it starts (the run ended): stop it now
            await self._stop_owner(at_once=True)
            raise
        return self._client

    def _transport(self) -> Any:
        from mcp.client.sse import sse_client
        from mcp.client.stdio import StdioServerParameters, stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        spec = expanded(self.server, os.environ)
        if isinstance(spec, StdioServer):
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("w", encoding="utf-8")
            program, argv = launch_argv(spec.command, spec.args)
            params = StdioServerParameters(
                command=program, args=argv, env=spec.env or None, cwd=spec.cwd or str(self.cwd)
            )
            return stdio_client(params, errlog=self._log)
        assert isinstance(spec, RemoteServer)
        if spec.type == "sse":
            return sse_client(spec.url, headers=spec.headers or None)
        http = create_mcp_http_client(headers=spec.headers or None)
        return streamable_http_client(spec.url, http_client=http)

    async def _own(self, ready: asyncio.Future[Any]) -> None:
        """Hold the client open until `close()`; report a failed start through `ready`."""
        from mcp import Client

        try:
            async with Client(self._transport(), mode="legacy", cache=None) as client:
                ready.set_result(client)
                await self._stop.wait()
        except McpServerError as exc:
            if not ready.done():
                ready.set_exception(exc)
        except Exception as exc:  # the SDK's and the OS's errors, as one that names the server
            if not ready.done():
                why = f"could not start: {type(exc).__name__}: {_first_line(exc)}"
                ready.set_exception(self.failure(why))
        finally:
            if not ready.done():  # cancelled while it started: no one is waiting for it any more
                ready.cancel()
            if self._log is not None:
                self._log.close()

    async def _stop_owner(self, *, at_once: bool = False) -> None:
        """Stop the owner task: let it leave the client (the SDK closes the server's stdin, then
        terminates it) within 10 s, or cancel it `at_once` (a start that did not finish)."""
        owner, self._owner, self._client = self._owner, None, None
        if owner is None:
            return
        self._stop.set()
        if not at_once:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(owner), 10)
        if not owner.done():
            owner.cancel()
        await asyncio.wait({owner})

    async def stop(self) -> None:
        """Stop the server (the SDK closes its stdin, then terminates it); the next call starts it
        again (after a crash)."""
        async with self._lock:
            await self._stop_owner()

    async def close(self) -> None:
        """Stop the server for good (its run or session ended); idempotent."""
        self._closed = True
        await self.stop()


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_first_line(e) for e in exc.exceptions)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
