"""Every model has a price (configured, else genai-prices' table), and a budget never runs unbounded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.events import Usage
from agent.model import _price_record
from agent.model.pricing import Pricer, cost_usd, table_price
from agent.paths import builtin_dir
from agent.registry.schema import PriceConfig, load_registry
from tests.conftest import run_subagent, subprocess_env

MILLION = 1_000_000
# Models the Messages API offers (the ones the issue saw run unpriced first), beside the shipped ones.
OFFERED = [
    "claude-opus-4-1",
    "claude-sonnet-4-6",
    "claude-opus-4-5",
    "claude-haiku-4-5",
    "claude-sonnet-4-5",
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
]


def test_every_offered_and_shipped_model_has_a_price() -> None:
    config = load_registry(builtin_dir() / "agents.yaml")
    names = {*OFFERED, *config.models, *config.aliases.values()}
    for name in sorted(names):
        price = table_price(name)
        assert price is not None, name
        assert price(Usage(input_tokens=MILLION)) > 0 and price(Usage(output_tokens=MILLION)) > 0, name


def test_table_prices_count_every_kind_of_token() -> None:
    opus = table_price("claude-opus-4-1")
    assert opus is not None
    assert opus(Usage(input_tokens=MILLION)) == pytest.approx(15.0)
    assert opus(Usage(output_tokens=MILLION)) == pytest.approx(75.0)
    assert opus(Usage(cache_read_input_tokens=MILLION)) == pytest.approx(1.5)  # not counted as input too
    assert opus(Usage(cache_creation_input_tokens=MILLION)) == pytest.approx(18.75)
    assert table_price("claude-no-such-model-9") is None


async def test_a_configured_price_wins_over_the_table() -> None:
    mine = PriceConfig(input=1.0, output=2.0)
    assert await Pricer("claude-opus-4-1", mine).cost(Usage(input_tokens=MILLION)) == pytest.approx(1.0)
    assert await Pricer("claude-opus-4-1", None).cost(Usage(input_tokens=MILLION)) == pytest.approx(15.0)
    assert await Pricer("claude-no-such-model-9", None).cost(Usage(input_tokens=MILLION)) == 0.0


def test_the_price_table_is_not_imported_on_the_way_to_a_run() -> None:
    code = (
        "import sys, agent.runtime.assembly, agent.loop.agent_loop, agent.model.pricing; "
        "print('genai_prices' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def _workspace(tmp_path: Path, budget: float) -> Path:
    ws = tmp_path / "ws"
    (ws / ".subagent").mkdir(parents=True)
    config = {"defaults": {"max_budget_usd": budget, "sandbox": {"kind": "none"}}}
    (ws / ".subagent" / "config.yaml").write_text(yaml.safe_dump(config))
    return ws


def _script(tmp_path: Path) -> Path:
    script = {
        "scripts": [
            {
                "replies": [
                    {
                        "tool_calls": [{"name": "glob", "input": {"pattern": "*.txt"}}],
                        "usage": {"input_tokens": 20_000, "output_tokens": 2_000},
                    },
                    {"text": "done"},
                ]
            }
        ]
    }
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(script))
    return path


def test_a_budget_for_a_model_without_any_price_refuses_to_start(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, 0.01)
    ran = run_subagent(
        "run",
        "go",
        "--model",
        "claude-no-such-model-9",
        "--script",
        str(_script(tmp_path)),
        "--cwd",
        str(ws),
        "--output",
        "json",
    )
    assert ran.returncode == 2 and ran.stdout == ""
    assert "claude-no-such-model-9" in ran.stderr and "no known price" in ran.stderr
    assert "$0.01 budget" in ran.stderr and "Traceback" not in ran.stderr


@pytest.mark.parametrize("model", ["claude-opus-4-1", "claude-sonnet-4-6"])
def test_a_near_zero_budget_stops_a_model_priced_by_the_table(tmp_path: Path, model: str) -> None:
    ws = _workspace(tmp_path, 0.0001)
    ran = run_subagent(
        "run",
        "go",
        "--model",
        model,
        "--script",
        str(_script(tmp_path)),
        "--cwd",
        str(ws),
        "--output",
        "json",
    )
    assert ran.returncode == 4, ran.stderr
    result = json.loads(ran.stdout)
    assert result["subtype"] == "error_max_budget"
    expected = table_price(model)
    assert expected is not None
    spent = expected(Usage(input_tokens=20_000, output_tokens=2_000))
    assert result["total_cost_usd"] == pytest.approx(spent)


@settings(deadline=None, max_examples=60)  # a loaded machine; the property is not about speed
@given(
    model=st.sampled_from(OFFERED),
    counts=st.tuples(*[st.integers(min_value=0, max_value=2 * MILLION)] * 4),
)
def test_kept_flat_rates_price_as_the_table_does(model: str, counts: tuple[int, int, int, int]) -> None:
    flat = _price_record.flat_price(model, "anthropic")
    table = table_price(model)
    assert table is not None
    if flat is None:  # tiers by prompt length: only the table prices these
        return
    usage = Usage(input_tokens=counts[0], output_tokens=counts[1], cache_read_input_tokens=counts[2],
                  cache_creation_input_tokens=counts[3])  # fmt: skip
    assert cost_usd(usage, flat) == pytest.approx(table(usage), rel=1e-9, abs=1e-12)


def test_a_tiered_model_is_not_kept() -> None:
    assert _price_record.flat_price("claude-haiku-5-5", "anthropic") is None
    assert _price_record.flat_price("claude-sonnet-5-5", "anthropic") is not None  # the control


def _cost_in_a_new_process() -> list[str]:
    code = ("import asyncio, sys; from agent.model.pricing import Pricer; from agent.events import Usage; "
            "cost = asyncio.run(Pricer('claude-sonnet-5-5', None).cost(Usage(output_tokens=1_000_000))); "
            "print(cost, 'genai_prices' in sys.modules)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env())
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_kept_price_spares_the_next_run_the_table() -> None:
    record = _price_record._file()
    assert not record.exists()  # this test's own data dir: nothing kept yet
    cost, imported = _cost_in_a_new_process()
    assert imported == "True"  # looked up in the table, and kept
    assert _cost_in_a_new_process() == [cost, "False"]
    kept = json.loads(record.read_text())
    record.write_text(json.dumps({**kept, "table": "another table, or yesterday"}))
    assert _cost_in_a_new_process() == [cost, "True"]  # the control: a stale record is not used
    # Last: `table_price` keeps the rates in this test's data dir the first time this process asks
    # (it is cached per process), so asking first would make the first run above find a record.
    expected = table_price("claude-sonnet-5-5")
    assert expected is not None
    assert cost == str(expected(Usage(output_tokens=MILLION)))
