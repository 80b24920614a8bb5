"""Claude Code from npm, pinned, for side-by-side benchmarks: installed once into bench/.cache.

`claude_code()` gives the path of the `claude` binary (the platform package's native executable,
which the npm wrapper would exec), `claude_acp()` the ACP adapter Zed uses for it
(`@agentclientprotocol/claude-agent-acp`, run with node and pointed at the same binary). Each
returns `(path, None)` or `(None, why)`: no npm, no registry, no binary for this platform, a
binary that does not start. The cache folder is gitignored; nothing from it is committed.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
CLAUDE_CODE = ("@anthropic-ai/claude-code", "2.1.332")
CLAUDE_ACP = ("@agentclientprotocol/claude-agent-acp", "0.101.0")

Found = tuple[Path | None, str | None]


def _npm_install(package: str, version: str, folder: Path) -> str | None:
    """Install `package@version` into `folder` (once); the reason it failed, or None."""
    marker = folder / "node_modules" / package / "package.json"
    if marker.exists() and f'"version": "{version}"' in marker.read_text():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), f"{package}@{version}"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if proc.returncode != 0:
        return f"npm install {package}@{version} failed: {proc.stderr.strip().splitlines()[-1:]}"
    return None


def _platform_package() -> str:
    arch = {"x86_64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return f"@anthropic-ai/claude-code-linux-{arch}"


def claude_code() -> Found:
    """The pinned `claude` binary, installed if needed."""
    folder = CACHE / "claude-code"
    if why := _npm_install(*CLAUDE_CODE, folder):
        return None, why
    binary = folder / "node_modules" / _platform_package() / "claude"
    if not binary.exists():
        return None, f"no {_platform_package()} binary in the npm package (platform {platform.machine()})"
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError as exc:
        return None, f"{binary} does not start: {exc}"
    if CLAUDE_CODE[1] not in version:
        return None, f"{binary} --version says {version.strip()!r}"
    return binary, None


def claude_acp() -> Found:
    """The pinned ACP adapter's entry point (run with node), installed if needed."""
    folder = CACHE / "claude-agent-acp"
    if shutil.which("node") is None:
        return None, "node is not installed"
    if why := _npm_install(*CLAUDE_ACP, folder):
        return None, why
    entry = folder / "node_modules" / CLAUDE_ACP[0] / "dist" / "index.js"
    return (entry, None) if entry.exists() else (None, f"{entry} is missing")
