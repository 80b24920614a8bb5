"""Today's flat table price of a model, remembered so a run need not import the price table.

genai-prices costs 0.05 to 0.1 s of CPU to import and load, and a one-shot run whose answer comes
back at once waits for it before it can report its cost. Most models have one rate per kind of
token (no long-context tiers): for those, the four rates the table gives today are kept in
`<data>/table-prices.json`, stamped with the day and the installed table (its data file's size
and mtime). A later run the same day, with the same table, prices that model with the kept rates
through the same flat formula a configured price uses (`pricing.cost_usd`), never importing the
table; a tiered model, another day or another table version means the table is asked again.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path

from agent._atomic_file import write_atomic
from agent.registry.schema import PriceConfig

_RATES = {"input": "input_mtok", "output": "output_mtok", "cache_read": "cache_read_mtok",
          "cache_write": "cache_write_mtok"}  # fmt: skip
"""PriceConfig field -> genai-prices ModelPrice field (USD per million tokens)."""


def _stamp() -> str | None:
    """Which table is installed (its data module's size and mtime), or None without one."""
    spec = find_spec("genai_prices")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        stat = os.stat(Path(spec.submodule_search_locations[0]) / "data.py")
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}:{date.today().isoformat()}"


def _file() -> Path:
    from agent.paths import data_home

    return data_home() / "table-prices.json"


def kept_price(model_id: str) -> PriceConfig | None:
    """The rates kept today for `model_id` from the installed table, or None."""
    try:
        kept = json.loads(_file().read_text(encoding="utf-8"))
        if kept.get("table") != _stamp():
            return None
        return PriceConfig.model_validate(kept["models"][model_id])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def flat_price(model_id: str, provider: str) -> PriceConfig | None:
    """The table's rates for `model_id` today when each kind of token has one rate (blocking:
    imports the table), else None."""
    from genai_prices import data_snapshot

    try:
        _, model = data_snapshot.get_snapshot().find_provider_model(model_id, None, provider, None)
    except LookupError:
        return None
    prices = model.get_prices(datetime.now(UTC))
    rates = {field: getattr(prices, name) for field, name in _RATES.items()}
    if not all(isinstance(rate, Decimal) for rate in rates.values()):
        return None  # tiers by prompt length, or a kind of token without its own rate: the table decides
    return PriceConfig(**{field: float(rate) for field, rate in rates.items()})


def keep(model_id: str, price: PriceConfig) -> None:
    """Remember `price` for the rest of the day (a data dir that cannot be written: no record)."""
    stamp, path = _stamp(), _file()
    try:
        kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        models = kept.get("models", {}) if kept.get("table") == stamp else {}
        models[model_id] = price.model_dump()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"table": stamp, "models": models}), mode=0o600, fsync=False)
    except (OSError, ValueError, AttributeError):
        pass
