"""`--settings FILE|JSON`: Claude settings the caller passes on the command line.

Read as Claude Code reads them: a value that starts with `{` and ends with `}` is JSON text,
anything else a file (relative to the cwd, with or without a BOM). They become the registry's
`cli` layer (`agent.registry.layers`), read by the same reader as `.claude/settings.json`
(`permissions`, `defaultMode`, `hooks`) and read last, so they win; the layer is trusted, since
the caller passed it. `env` is set on this process before the first run (the model client,
hooks and MCP servers see it; bash only the names `sandbox.env` allows, as for any variable).
What no reader applies is said once on stderr. A malformed file ends the command (exit 2)
before anything runs: a caller's deny rule must never be dropped.
"""

from pathlib import Path

from pydantic import BaseModel

from agent.errors import ConfigError
from agent.registry.layers import ConfigLayer


class ClaudeSettings(BaseModel):
    """Claude settings given with `--settings`, checked."""

    name: str
    """The file, or `--settings` for JSON text: what errors and `doctor`-style lines name."""
    text: str
    env: dict[str, str] = {}
    unapplied: list[str] = []
    """`key: why` for each part no reader applies (`env` is applied here)."""

    @classmethod
    def given(cls, raw: str, cwd: Path) -> "ClaudeSettings":
        """Read and check `--settings`'s value.

        Raises:
            ConfigError: the file cannot be read, is not a JSON object, or a rule, hook or `env`
                is malformed (naming the key).
        """
        from agent.peers.claude_settings import read_claude_settings
        from agent.peers.layer_content import read_json_object
        from agent.registry.discovery import find_workspace

        value = raw.strip()
        if value.startswith("{") and value.endswith("}"):
            name, text = "--settings", value
        else:
            path = cwd / value
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"--settings {raw}: cannot read it: {exc}") from None
            name = str(path)
        data, _ = read_json_object(Path(name), text)
        workspace = find_workspace(cwd)
        content = read_claude_settings(Path(name), root=workspace, workspace=workspace, text=text)
        env = data.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ConfigError(f"{name}: env: must be an object of strings")
        unapplied = [line for line in content.unapplied if not line.startswith("env:")]
        return cls(name=name, text=text, env=env, unapplied=unapplied)

    def layer(self, workspace: Path) -> ConfigLayer:
        """The registry layer these settings are: `/path` rules relative to the workspace."""
        return ConfigLayer(Path(self.name), "cli", "claude", root=workspace, text=self.text)
