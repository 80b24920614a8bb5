"""`--json-schema`: the final answer as JSON that fits a schema, asked for again on a mismatch.

The model is told the schema with the prompt; its final text is read as JSON (a fenced block
too) and validated; a mismatch goes back to it, with what failed, up to `MAX_RETRIES` times.
The value that fits is the result's `structured_output`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_RETRIES = 3
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


@dataclass(frozen=True, eq=False, repr=False)
class Verdict:
    """Whether an answer matches `--json-schema`: the value parsed, or why not."""

    ok: bool
    value: Any = None
    why: str = ""


class SchemaCheck:
    """One turn's schema: the instruction, the check, the correction."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.retries = 0

    def instruct(self, prompt: str) -> str:
        return (
            f"{prompt}\n\nWhen you are done, reply with only a JSON value (no other text) that "
            f"matches this JSON Schema:\n{json.dumps(self.schema)}"
        )

    def verdict(self, text: str) -> Verdict:
        import jsonschema

        fenced = _FENCE.search(text)
        raw = fenced.group(1) if fenced else text
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            return Verdict(False, why=f"the answer is not JSON ({exc})")
        errors = sorted(
            jsonschema.validators.validator_for(self.schema)(self.schema).iter_errors(value), key=str
        )
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "the value"
            return Verdict(False, why=f"{where}: {errors[0].message}")
        return Verdict(True, value=value)

    def exhausted(self) -> bool:
        return self.retries >= MAX_RETRIES

    def correction(self, why: str) -> str:
        self.retries += 1
        return (
            f"Your answer does not match the JSON Schema: {why}. Reply again with only a JSON value "
            f"that matches it:\n{json.dumps(self.schema)}"
        )
