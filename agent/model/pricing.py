"""Cost of tokens, from the price table in `agents.yaml` (USD per million tokens, per model)."""

from __future__ import annotations

from agent.config import PriceConfig
from agent.events import Usage

_PER = 1_000_000


def cost_usd(usage: Usage, price: PriceConfig | None) -> float:
    """What `usage` costs at `price`; 0.0 for a model without a configured price."""
    if price is None:
        return 0.0
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_input_tokens * price.cache_read
        + usage.cache_creation_input_tokens * price.cache_write
    ) / _PER
