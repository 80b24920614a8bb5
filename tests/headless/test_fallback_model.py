"""`--fallback-model`: through `subagent -p` against the local Messages API server, whose default
model starts answering 529 `overloaded_error` after the first turn."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from agent.errors import ConfigError
from agent.headless.flags import parse
from tests.headless.conftest import SdkSite
from tests.model import sse
from tests.model.messages_server import MessagesServer

MAIN, FALLBACK = "claude-sonnet-5-5", "claude-haiku-4-5"
PRICES = (
    "models:\n"
    f"  {MAIN}:\n    price: {{input: 1, output: 2, cache_read: 0, cache_write: 0}}\n"
    f"  {FALLBACK}:\n    price: {{input: 3, output: 5, cache_read: 0, cache_write: 0}}\n"
)


def _print(site: SdkSite, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    config = site.workspace.parent / "config" / "subagent"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.yaml").write_text(PRICES)
    env = {**site.env, "ANTHROPIC_BASE_URL": url, "PATH": "/usr/bin:/bin"}
    argv = [str(site.launcher), "-p", "read notes.txt", "--output-format", "stream-json", "--verbose", *args]
    return subprocess.run(argv, cwd=site.workspace, env=env, capture_output=True, text=True, timeout=120)


def test_an_overloaded_model_hands_the_turn_to_the_fallback_and_both_are_counted(sdk_site: SdkSite) -> None:
    (sdk_site.workspace / "notes.txt").write_text("42\n")
    server: MessagesServer

    def reply(body: dict[str, Any]) -> str:
        if body["model"] == MAIN:  # the first turn; from now on the default model is overloaded
            server.overloaded.add(MAIN)
            return sse.reply(
                sse.tool_block(0, "toolu_1", "read", {"file_path": "notes.txt"}), stop_reason="tool_use"
            )
        return sse.reply(sse.text_block(0, "It says 42."))

    with MessagesServer(reply) as server:
        proc = _print(sdk_site, server.url, "--model", MAIN, "--fallback-model", FALLBACK)
    assert proc.returncode == 0, proc.stderr
    assert [body["model"] for body in server.requests] == [MAIN] + [MAIN] * 5 + [FALLBACK]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    switch = [line for line in lines if line.get("subtype") == "model_fallback"]
    assert len(switch) == 1 and switch[0]["type"] == "system"
    assert (switch[0]["from_model"], switch[0]["to_model"]) == (MAIN, FALLBACK)
    assert "529 overloaded_error" in switch[0]["reason"]
    answer = [line for line in lines if line["type"] == "assistant"][-1]
    assert answer["message"]["model"] == FALLBACK
    result = lines[-1]
    assert result["type"] == "result" and result["result"] == "It says 42."
    usage = result["modelUsage"]
    assert set(usage) == {MAIN, FALLBACK}
    assert (usage[MAIN]["inputTokens"], usage[FALLBACK]["inputTokens"]) == (10, 10)
    assert usage[MAIN]["costUSD"] == pytest.approx((10 * 1 + 20 * 2) / 1e6)
    assert usage[FALLBACK]["costUSD"] == pytest.approx((10 * 3 + 20 * 5) / 1e6)
    assert result["total_cost_usd"] == pytest.approx(usage[MAIN]["costUSD"] + usage[FALLBACK]["costUSD"])


def test_the_fallback_model_equal_to_the_model_is_an_error(sdk_site: SdkSite) -> None:
    with pytest.raises(ConfigError, match="--fallback-model 'opus' is the same as --model"):
        parse(["-p", "x", "--model", "opus", "--fallback-model", "opus"])
    with MessagesServer([]) as server:  # another spelling of the run's model is found once both resolve
        proc = _print(sdk_site, server.url, "--model", MAIN, "--fallback-model", f"anthropic/{MAIN}")
    assert proc.returncode == 2 and proc.stdout == "" and not server.requests
    assert f"the fallback model 'anthropic/{MAIN}' is the run's model {MAIN}" in proc.stderr


async def test_the_sdk_hands_the_switch_over_as_a_system_message(sdk_site: SdkSite) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    with MessagesServer([sse.reply(sse.text_block(0, "fine"))], overloaded={MAIN}) as server:
        options = sdk_site.options(server.url, model=MAIN, fallback_model=FALLBACK)
        messages = [m async for m in sdk.query(prompt="hi", options=options)]
    switch = [m for m in messages if isinstance(m, sdk.SystemMessage) and m.subtype == "model_fallback"]
    assert len(switch) == 1 and switch[0].data["to_model"] == FALLBACK
    assert isinstance(messages[-1], sdk.ResultMessage) and messages[-1].result == "fine"
