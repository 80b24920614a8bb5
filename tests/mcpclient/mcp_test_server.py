"""An MCP server for the tests, written with the `mcp` SDK's server API.

`python mcp_test_server.py [stdio | http PORT]`. With `MARKER` set it appends its pid to that file
when it starts (proof that it was started); `slow` appends to `$MARKER.slow` when it starts and `cancelled` to
`$MARKER.cancel` when the client cancels it; `crash` writes to stderr and exits. `EXTRA_TOOLS=N`
adds N generated tools. With `GATE` set it answers nothing until that file exists (a server slow
to start, held until the test lets it go); `START_DELAY=S` holds it S seconds, and `LIST_DELAY=S`
makes each `tools/list` answer S seconds late (a server slow to list its tools).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

server = MCPServer("testserver")


@server.tool(description="Echo the text back.")
def echo(text: str) -> str:
    return f"echo: {text}"


@server.tool(description="Look a key up (read-only).", annotations=ToolAnnotations(read_only_hint=True))
def lookup(key: str) -> str:
    return f"value of {key}"


@server.tool(description="Sleep, then answer.")
async def slow(seconds: float) -> str:
    marker = os.environ.get("MARKER")
    if marker:
        with open(marker + ".slow", "a") as f:
            f.write("started\n")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        if marker:
            with open(marker + ".cancel", "a") as f:
                f.write("cancelled\n")
        raise
    return "slept"


@server.tool(description="Wait until the file PATH exists (at most a minute).")
async def wait_for_file(path: str) -> str:
    for _ in range(3000):
        if os.path.exists(path):
            return "there"
        await asyncio.sleep(0.02)
    return "never came"


@server.tool(description="Crash the server.")
def crash() -> str:
    print("about to crash: the test asked for it", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool(description="A large result.")
def big(lines: int) -> str:
    return "\n".join(f"line {i} " + "x" * 40 for i in range(lines))


@server.tool(description="Fail with isError.")
def fail() -> str:
    raise ToolError("this tool always fails")


@server.tool(description="Read the environment variable NAME (to see what the server was given).")
def getenv(name: str) -> str:
    return os.environ.get(name, "(unset)")


@server.resource("notes://readme", description="The project's notes.")
def readme() -> str:
    return "the notes say: deploy on Fridays"


@server.prompt(description="Ask for a review of a file.")
def review(path: str) -> str:
    return f"Please review {path}."


def _generated(n: int) -> None:
    """`EXTRA_TOOLS=N`: N more tools, each with a schema of a realistic size (for lean prompts)."""
    for i in range(n):
        server.tool(
            name=f"records_{i:03d}",
            description=f"Query the records of table number {i} by id; returns the fields asked for, "
            "at most `limit` rows, in the order the table keeps them.",
        )(_records(i))


def _records(i: int) -> Any:
    def tool(record_id: str, fields: list[str], limit: int = 10) -> str:
        return f"table {i}: {record_id} {fields} {limit}"

    return tool


def _delay_listing(seconds: float) -> None:
    listing = server.list_tools

    async def late() -> Any:
        await asyncio.sleep(seconds)
        return await listing()

    server.list_tools = late  # type: ignore[method-assign]


def main() -> None:
    _generated(int(os.environ.get("EXTRA_TOOLS", "0")))
    if list_delay := os.environ.get("LIST_DELAY"):
        _delay_listing(float(list_delay))
    marker = os.environ.get("MARKER")
    if marker:
        with open(marker, "a") as f:
            f.write(f"{os.getpid()}\n")
    gate = os.environ.get("GATE")
    while gate and not os.path.exists(gate):
        time.sleep(0.02)
    time.sleep(float(os.environ.get("START_DELAY", "0")))
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()


if __name__ == "__main__":
    main()
