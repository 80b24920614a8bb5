"""Which model an agent runs on, and its limits, in one documented order.

Model id, lowest to highest precedence: `agents.yaml` `defaults.model` < the persona's or
registry entry's `model:` < the `--model` flag. Each form is normalised the same way:
opencode's `anthropic/claude-...` loses its provider prefix, Claude Code's `sonnet|opus|haiku`
(and any other key of `aliases:`) become the configured id, and `inherit` means the parent's
model (the default model for a root agent). Limits: `models:` in agents.yaml, then the models
API when it answers (it knows the model best), never a constant in the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import ConfigError
from agent.model.base import ModelInfo
from agent.registry.schema import ModelConfig, PriceConfig, RegistryConfig


@dataclass(frozen=True, eq=False, repr=False)
class ResolvedModel:
    """The model a run uses, with the registry's figures for it."""

    id: str
    context_window: int
    max_output_tokens: int
    price: PriceConfig | None
    thinking: bool
    server_compaction: bool = False
    """Server-side compaction is on for this model (agents.yaml `models.<id>.server_compaction`)."""


def normalise_model(name: str, config: RegistryConfig, parent_model: str | None = None) -> str:
    """One model string as written to an id the API knows."""
    name = name.strip()
    if name == "inherit":
        return parent_model or normalise_model(config.defaults.model, config)
    if "/" in name:
        provider, _, rest = name.partition("/")
        if provider != "anthropic":
            raise ConfigError(
                f"model {name!r}: only Anthropic models are supported (use `anthropic/<id>` or a bare id)"
            )
        name = rest
    return config.aliases.get(name, name)


def resolve_model_id(
    config: RegistryConfig, persona_model: str | None, flag: str | None, parent_model: str | None = None
) -> str:
    """The model id: defaults < persona/registry `model:` < `--model`."""
    chosen = flag or persona_model or config.defaults.model
    return normalise_model(chosen, config, parent_model)


def resolve_model(
    config: RegistryConfig,
    persona_model: str | None,
    flag: str | None,
    parent_model: str | None = None,
    info: ModelInfo | None = None,
) -> ResolvedModel:
    """The model id with its limits and price; `info` (from the models API) refines the limits."""
    model_id = resolve_model_id(config, persona_model, flag, parent_model)
    known = config.models.get(model_id, ModelConfig())
    window = (info.context_window if info and info.context_window else None) or known.context_window
    output = (info.max_output_tokens if info and info.max_output_tokens else None) or known.max_output_tokens
    return ResolvedModel(model_id, window, output, known.price, known.thinking, known.server_compaction)
