"""The configuration readers: `.mcp.json`, opencode's `mcp` block, `${VAR}` expansion, fingerprints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import ConfigError, McpServerError
from agent.mcpclient.config import RemoteServer, ServerDef, StdioServer, expand, expanded, servers_from_claude
from agent.mcpclient.project_files import claude_servers, opencode_servers


def test_claude_shapes_stdio_http_and_sse(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "fs": {"command": "npx", "args": ["-y", "server"], "env": {"A": "${HOME}"}},
                    "gh": {
                        "type": "http",
                        "url": "https://x/mcp",
                        "headers": {"Authorization": "Bearer ${T}"},
                    },
                    "old": {"type": "sse", "url": "https://x/sse"},
                }
            }
        )
    )
    fs, gh, old = claude_servers(tmp_path)
    assert fs.transport == StdioServer(command="npx", args=["-y", "server"], env={"A": "${HOME}"})
    assert gh.transport == RemoteServer(
        type="http", url="https://x/mcp", headers={"Authorization": "Bearer ${T}"}
    )
    assert old.transport.type == "sse" and {s.scope for s in (fs, gh, old)} == {"workspace"}
    assert fs.source == str(tmp_path / ".mcp.json")


def test_opencode_block_local_remote_and_disabled(tmp_path: Path) -> None:
    (tmp_path / "opencode.json").write_text(
        json.dumps(
            {
                "permission": {"bash": "ask"},
                "mcp": {
                    "loc": {"type": "local", "command": ["bun", "x", "srv"], "environment": {"K": "v"}},
                    "rem": {"type": "remote", "url": "https://r/mcp", "headers": {"H": "1"}, "enabled": True},
                    "off": {"type": "local", "command": ["x"], "enabled": False},
                },
            }
        )
    )
    servers = {s.name: s.transport for s in opencode_servers(tmp_path)}
    assert servers == {
        "loc": StdioServer(command="bun", args=["x", "srv"], env={"K": "v"}),
        "rem": RemoteServer(type="http", url="https://r/mcp", headers={"H": "1"}),
    }


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "invalid JSON (line 1)"),
        ('{"mcpServers": {"a": {"args": []}}}', "mcpServers.a.command"),
        ('{"mcpServers": {"a": {"command": "x", "bogus": 1}}}', "unknown key"),
        ('{"mcpServers": {"a__b": {"command": "x"}}}', "a__b"),
        ('{"mcpServers": []}', "mapping"),
    ],
)
def test_a_bad_mcp_json_names_the_file_and_the_server(tmp_path: Path, content: str, words: str) -> None:
    (tmp_path / ".mcp.json").write_text(content)
    with pytest.raises(ConfigError) as caught:
        claude_servers(tmp_path)
    assert str(tmp_path / ".mcp.json") in str(caught.value) and words in str(caught.value)


def test_expansion_as_claude_code_does_it() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert expand("${A}/${B:-two}/${EMPTY:-d}/$A", env, "s") == "1/two/d/$A"
    with pytest.raises(McpServerError, match=r"\$\{B\} is not set"):
        expand("${B}", env, "s")
    server = servers_from_claude({"s": {"type": "http", "url": "${U}", "headers": {"X": "${A}"}}},
                                 source="f", scope="user")[0]  # fmt: skip
    assert expanded(server, {"U": "http://h", "A": "1"}) == RemoteServer(
        type="http", url="http://h", headers={"X": "1"}
    )


@given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=40))
def test_text_without_variables_is_unchanged(text: str) -> None:
    assert expand(text, {}, "s") == text


def test_the_fingerprint_follows_the_definition_not_the_environment() -> None:
    def one(**entry: object) -> ServerDef:
        return servers_from_claude({"s": entry}, source="f", scope="workspace")[0]

    base = one(command="x", args=["${A}"])
    assert base.fingerprint() == one(command="x", args=["${A}"]).fingerprint()
    assert base.fingerprint() != one(command="x", args=["${A}", "more"]).fingerprint()
    assert base.fingerprint() != one(command="y", args=["${A}"]).fingerprint()


def test_mcp_config_as_text_or_file(tmp_path: Path) -> None:
    from agent.mcpclient.project_files import servers_from_mcp_config

    text = json.dumps({"mcpServers": {"a": {"command": "x"}}})
    [from_text] = servers_from_mcp_config(text)
    (tmp_path / "m.json").write_text(text)
    [from_file] = servers_from_mcp_config(str(tmp_path / "m.json"))
    assert from_text.transport == from_file.transport == StdioServer(command="x")
    assert from_text.scope == from_file.scope == "user" and from_file.source == str(tmp_path / "m.json")
    with pytest.raises(ConfigError, match="neither JSON text nor a file"):
        servers_from_mcp_config(str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="mcpServers"):
        servers_from_mcp_config('{"servers": {}}')


def test_a_servers_call_timeout_is_in_milliseconds_and_asks_no_new_approval() -> None:
    entry = {"command": "srv", "args": ["-v"]}
    [plain] = servers_from_claude({"s": entry}, source="f", scope="workspace")
    [timed] = servers_from_claude({"s": {**entry, "timeout": 1500}}, source="f", scope="workspace")
    assert plain.call_timeout_s == 600 and timed.call_timeout_s == 1.5
    assert plain.fingerprint() == timed.fingerprint()  # the timeout is not what was approved
    for bad in (0, -5, "10s", True):
        with pytest.raises(ConfigError, match=r"mcpServers\.s\.timeout: a positive number of milliseconds"):
            servers_from_claude({"s": {**entry, "timeout": bad}}, source="f", scope="workspace")


def test_opencode_json_has_one_reader_for_its_mcp_block_and_the_rest(tmp_path: Path) -> None:
    from agent.peers.opencode_json import read_opencode_json

    path = tmp_path / "opencode.json"
    path.write_text("{not json")  # the control: both sides read the file, and say the same
    with pytest.raises(ConfigError) as mcp_side:
        opencode_servers(tmp_path)
    with pytest.raises(ConfigError) as config_side:
        read_opencode_json(tmp_path)
    assert str(mcp_side.value) == str(config_side.value) and "invalid JSON (line 1)" in str(mcp_side.value)

    path.unlink()
    os.mkfifo(path)  # a FIFO would hang a plain open(): neither reads it
    assert opencode_servers(tmp_path) == [] and read_opencode_json(tmp_path) is None
    path.unlink()
    path.mkdir(mode=0o555)  # the sandbox's stand-in while a bash call runs: no file, no problem
    assert opencode_servers(tmp_path) == [] and read_opencode_json(tmp_path) is None
    (tmp_path / ".mcp.json").mkdir(mode=0o555)
    (tmp_path / ".mcp.json").chmod(0o555)
    assert claude_servers(tmp_path) == []


def test_opencode_timeout_is_the_start_timeout_or_startup_and_request(tmp_path: Path) -> None:
    local = {"type": "local", "command": ["srv"]}
    (tmp_path / "opencode.json").write_text(
        json.dumps(
            {
                "mcp": {
                    "plain": local,
                    "number": {**local, "timeout": 5000},
                    "split": {**local, "timeout": {"startup": 45000, "request": 120000}},
                    "half": {**local, "timeout": {"request": 2500}},
                }
            }
        )
    )
    got = {s.name: (s.start_timeout_s, s.call_timeout_s) for s in opencode_servers(tmp_path)}
    assert got == {"plain": (30, 600), "number": (5, 600), "split": (45, 120), "half": (30, 2.5)}
    split = next(s for s in opencode_servers(tmp_path) if s.name == "split")
    untimed = ServerDef(name="split", transport=split.transport, source="f", scope="workspace")
    assert split.fingerprint() == untimed.fingerprint()  # a timeout asks for no new approval
    [claude] = servers_from_claude({"s": {"command": "srv", "timeout": 5000}}, source="f", scope="workspace")
    assert (claude.start_timeout_s, claude.call_timeout_s) == (30, 5)  # Claude Code's `timeout` is per call


@pytest.mark.parametrize(
    ("timeout", "words"),
    [
        (0, r"mcp\.s\.timeout: a positive number of milliseconds, not 0"),
        ("30s", r"mcp\.s\.timeout: a positive number of milliseconds"),
        (float("nan"), r"mcp\.s\.timeout: a positive number of milliseconds, not nan"),  # JSON's NaN
        ({"request": float("inf")}, r"mcp\.s\.timeout\.request: a positive number of milliseconds, not inf"),
        ({"startup": -1}, r"mcp\.s\.timeout\.startup: a positive number"),
        (
            {"connect": 10},
            r"mcp\.s\.timeout\.connect: unknown key \(opencode's are `startup` and `request`\)",
        ),
    ],
)
def test_a_bad_opencode_timeout_names_the_file_and_the_key(
    tmp_path: Path, timeout: object, words: str
) -> None:
    path = tmp_path / "opencode.json"
    path.write_text(json.dumps({"mcp": {"s": {"type": "local", "command": ["srv"], "timeout": timeout}}}))
    with pytest.raises(ConfigError, match=f"^{path}: {words}"):
        opencode_servers(tmp_path)
