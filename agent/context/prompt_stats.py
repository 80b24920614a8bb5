"""What the first request of an agent weighs, part by part: every byte of it is paid on every turn.

`prompt_stats` builds the first request exactly as the loop does (persona, environment block,
tool schemas, breakpoints, the prompt) and measures each part as compact JSON, the form sent on
the wire. `subagent agents show NAME --prompt-stats` prints it; bench/bench_context.py reports it
against Claude Code (about 76 KB per request) and opencode (about 30 KB).
"""

from typing import Any

from pydantic import BaseModel

from agent.context.tokens import estimate_tokens, json_bytes
from agent.model.base import ModelRequest
from agent.prompt.request import system_blocks
from agent.registry.spec import AgentSpec
from agent.tool import Tool


class PromptStats(BaseModel):
    """Bytes of each part of an agent's first request (tokens estimated at four bytes each)."""

    agent: str
    persona_bytes: int
    """The persona as written (UTF-8)."""
    instructions_bytes: int = 0
    """Project instructions (AGENTS.md and the like), sent in the block before the environment."""
    env_bytes: int
    """The environment block."""
    system_bytes: int
    """The `system` array as sent (persona, environment, cache markers)."""
    tool_bytes: dict[str, int]
    """Each tool's schema (name, description, input schema) as sent."""
    tools_bytes: int
    """The whole `tools` array."""
    total_bytes: int
    """The whole request body with the given prompt."""

    @property
    def total_tokens(self) -> int:
        return estimate_tokens(self.total_bytes)


def prompt_stats(
    spec: AgentSpec,
    tools: list[Tool[Any]],
    env_block: str,
    prompt: str = "",
    model: str = "model",
    instructions: str = "",
) -> PromptStats:
    """Measure the first request `spec` would send with `tools` and `prompt` (and the project's
    instructions, joined to the environment block as `run_agent` does)."""
    schemas = [tool.schema() for tool in tools]
    system = system_blocks(spec.prompt, "\n\n".join(filter(None, (instructions, env_block))))
    first = {"type": "text", "text": prompt, "cache_control": {"type": "ephemeral"}}
    body = ModelRequest(
        model=model,
        system=system,
        messages=[{"role": "user", "content": [first]}],
        tools=schemas,
        max_tokens=16_000,
    ).to_api_kwargs()
    return PromptStats(
        agent=spec.name,
        persona_bytes=len(spec.prompt.strip().encode()),
        instructions_bytes=len(instructions.encode()),
        env_bytes=len(env_block.encode()),
        system_bytes=json_bytes(system),
        tool_bytes={schema["name"]: json_bytes(schema) for schema in schemas},
        tools_bytes=json_bytes(schemas),
        total_bytes=json_bytes(body),
    )
