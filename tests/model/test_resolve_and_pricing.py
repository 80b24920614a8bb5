"""Model id resolution order, aliases and dialects, limits, and cost."""

from __future__ import annotations

import pytest

from agent.errors import ConfigError
from agent.events import Usage
from agent.model.base import ModelInfo
from agent.model.pricing import cost_usd
from agent.model.resolve import resolve_model, resolve_model_id
from agent.paths import builtin_dir
from agent.registry.schema import PriceConfig, RegistryConfig, load_registry


@pytest.fixture
def config() -> RegistryConfig:
    return load_registry(builtin_dir() / "agents.yaml")


def test_flag_beats_persona_beats_default(config: RegistryConfig) -> None:
    assert resolve_model_id(config, None, None) == config.defaults.model
    assert resolve_model_id(config, "opus", None) == "claude-opus-5-5"
    assert resolve_model_id(config, "opus", "haiku") == "claude-haiku-5-5"


def test_dialects_normalise(config: RegistryConfig) -> None:
    assert resolve_model_id(config, "anthropic/claude-opus-5-5", None) == "claude-opus-5-5"
    assert resolve_model_id(config, "inherit", None, parent_model="claude-haiku-5-5") == "claude-haiku-5-5"
    assert resolve_model_id(config, "inherit", None) == "claude-sonnet-5-5"
    with pytest.raises(ConfigError, match="only Anthropic models"):
        resolve_model_id(config, "openai/gpt-9", None)


def test_limits_from_config_then_the_models_api(config: RegistryConfig) -> None:
    opus = resolve_model(config, "opus", None)
    assert (opus.context_window, opus.max_output_tokens) == (200_000, 32_000)
    refined = resolve_model(
        config, "opus", None, info=ModelInfo(id="claude-opus-5-5", context_window=1_000_000)
    )
    assert (refined.context_window, refined.max_output_tokens) == (1_000_000, 32_000)
    unknown = resolve_model(config, "claude-new-9", None)
    assert unknown.price is None and unknown.context_window == 200_000


def test_cost_counts_every_kind_of_token() -> None:
    price = PriceConfig(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_read_input_tokens=2_000_000,
        cache_creation_input_tokens=400_000,
    )
    assert cost_usd(usage, price) == pytest.approx(3.0 + 1.5 + 0.6 + 1.5)
