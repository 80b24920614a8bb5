"""What tokens cost: a configured price, else the maintained price table of `genai-prices`.

A price in `agents.yaml` or `.subagent/config.yaml` (`models.<id>.price`, USD per million tokens)
wins: it is how a private endpoint or a negotiated price is written down. Every other model is
priced by genai-prices (https://github.com/pydantic/genai-prices), which follows Anthropic's price
list, tiers and date changes included; its table is looked up per request, as long-context tiers
apply per request. Importing it costs about 0.3 s of CPU, so it is imported in a thread, only for a
model without a configured price, and only once the first request is under way: never on the path
to the first request, unless a budget needs the price before the run may start (`require_price`).
A model whose table price is one rate per kind of token is priced from the rates kept today
(agent.model._price_record) without importing the table at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache

from agent.errors import ConfigError
from agent.events import Usage
from agent.registry.schema import PriceConfig

_PER = 1_000_000
_PROVIDER = "anthropic"
RequestPrice = Callable[[Usage], float]
"""USD for one request's usage."""


def cost_usd(usage: Usage, price: PriceConfig) -> float:
    """What `usage` costs at a configured (flat) `price`."""
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_input_tokens * price.cache_read
        + usage.cache_creation_input_tokens * price.cache_write
    ) / _PER


@cache
def table_price(model_id: str) -> RequestPrice | None:
    """genai-prices' price of `model_id` (blocking: imports the package), or None when it has none."""
    import genai_prices
    from genai_prices import types

    def price(usage: Usage) -> float:
        cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        counted = types.Usage(
            input_tokens=usage.input_tokens + cached,  # genai-prices counts cached tokens as input too
            cache_read_tokens=usage.cache_read_input_tokens,
            cache_write_tokens=usage.cache_creation_input_tokens,
            output_tokens=usage.output_tokens,
        )
        return float(genai_prices.calc_price(counted, model_id, provider_id=_PROVIDER).total_price)

    try:
        price(Usage())
    except LookupError:
        return None
    from agent.model import _price_record

    if (flat := _price_record.flat_price(model_id, _PROVIDER)) is not None:
        _price_record.keep(model_id, flat)
    return price


class Pricer:
    """Prices one model's requests for the loop (see the module docstring)."""

    def __init__(self, model_id: str, configured: PriceConfig | None) -> None:
        self.model_id = model_id
        self.configured = configured
        self._lookup: asyncio.Future[RequestPrice | None] | None = None

    def start(self) -> None:
        """Begin looking the price up in a thread (no-op with a configured or kept price, or once begun)."""
        if self.configured is not None or self._lookup is not None:
            return
        from agent.model._price_record import kept_price

        self.configured = kept_price(self.model_id)
        if self.configured is None:
            self._lookup = asyncio.ensure_future(asyncio.to_thread(table_price, self.model_id))

    async def cost(self, usage: Usage) -> float:
        """USD for one request's `usage`; 0.0 for a model no source prices (a run with a budget
        never gets here: `require_price` refused it)."""
        self.start()
        if self.configured is not None:
            return cost_usd(usage, self.configured)
        assert self._lookup is not None
        price = await asyncio.shield(self._lookup)
        return price(usage) if price is not None else 0.0


async def require_price(model_id: str, configured: PriceConfig | None, budget: float | None) -> None:
    """Refuse a run with a dollar budget when its model has no price: it would run unbounded.

    Raises:
        ConfigError: there is a budget and neither the configuration nor genai-prices prices the model.
    """
    if budget is None or configured is not None:
        return
    if await asyncio.to_thread(table_price, model_id) is None:
        raise ConfigError(
            f"model {model_id!r} has no known price, so the ${budget:g} budget could not be kept; add "
            f"`models: {{{model_id}: {{price: {{input: ..., output: ...}}}}}}` (USD per million tokens) "
            "to .subagent/config.yaml, or run without a budget"
        )
