"""The one way a benchmark reports a figure: a JSON line `bench/run_all.py` collects."""

from __future__ import annotations

import json


def emit(
    name: str,
    value: float,
    reference: float | None,
    *,
    unit: str = "",
    reference_name: str = "",
    aim: str = "",
    note: str = "",
    digits: int = 4,
) -> None:
    """Print one figure beside its same-run reference (or a peer's published figure) and the ratio."""
    ratio = round(value / reference, 3) if reference else None
    print(json.dumps({
        "name": name, "value": round(value, digits), "unit": unit,
        "reference": round(reference, digits) if reference is not None else None,
        "reference_name": reference_name, "ratio": ratio, "aim": aim, "note": note,
    }), flush=True)  # fmt: skip
