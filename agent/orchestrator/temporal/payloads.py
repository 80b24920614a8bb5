"""Payloads that never fail for size: compressed inline, or stored as a blob and sent by reference.

Temporal refuses payloads over 2 MB (the server's `limit.blobSize.error`). A subtask's result (a
patch, a final report) or its checkpoint can exceed that, so each travels as a `PayloadEnvelope`:
the model's JSON, zlib-compressed and base64-encoded inline when that stays under the inline
limit, otherwise written to a blob store and referenced by URL. The blob store is a directory
named by a `file://` URL; for workers on several machines it must be a shared mount (NFS, EFS, a
CSI volume) so the dispatcher and the retrying worker can read what another machine wrote.
"""

import base64
import hashlib
import zlib
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import unquote, urlparse

from pydantic import BaseModel

from agent._atomic_file import write_atomic
from agent.errors import ConfigError, RunError

DEFAULT_INLINE_LIMIT = 1024 * 1024
"""Encoded bytes kept inline; half Temporal's default limit for one payload (2 MiB) leaves room for
the envelope around it."""

ModelT = TypeVar("ModelT", bound=BaseModel)


class PayloadEnvelope(BaseModel):
    """A pydantic model's JSON, compressed, carried inline or by reference."""

    kind: Literal["inline", "ref"]
    data: str = ""
    """Base64 of the zlib-compressed JSON (kind `inline`)."""
    ref: str = ""
    """`file://` URL of the compressed JSON (kind `ref`)."""
    raw_size: int
    """Bytes of JSON before compression."""
    stored_size: int
    """Bytes after compression (inline: before base64)."""


class BlobStore:
    """A directory of content-addressed blobs, named by a `file://` URL or a plain path."""

    def __init__(self, location: str | Path) -> None:
        self.root = _path_of(str(location))

    def put(self, data: bytes, name: str) -> str:
        """Write `data` atomically and return its URL; equal content maps to the same file."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()[:32]
        target = self.root / f"{_safe(name)}-{digest}.zlib"
        if not target.exists():
            write_atomic(target, data, mode=0o600, fsync=True)
        return target.as_uri()


def pack(model: BaseModel, *, name: str, store: BlobStore | None, inline_limit: int) -> PayloadEnvelope:
    """Compress `model`; keep it inline under `inline_limit`, else put it in `store`.

    Raises:
        ConfigError: the payload is too big to travel inline and no blob store is configured.
    """
    raw = model.model_dump_json().encode()
    packed = zlib.compress(raw, 6)
    encoded = base64.b64encode(packed).decode("ascii")
    if len(encoded) <= inline_limit:
        return PayloadEnvelope(kind="inline", data=encoded, raw_size=len(raw), stored_size=len(packed))
    if store is None:
        raise ConfigError(
            f"{name}: {len(encoded)} bytes compressed is over the inline limit ({inline_limit}) and no "
            "blob store is configured; start the worker with --blob-dir DIR (a shared directory)"
        )
    ref = store.put(packed, name)
    return PayloadEnvelope(kind="ref", ref=ref, raw_size=len(raw), stored_size=len(packed))


def unpack(envelope: PayloadEnvelope, model_type: type[ModelT]) -> ModelT:
    """Decode an envelope back into its model, reading the blob when it travelled by reference.

    Raises:
        RunError: the referenced blob cannot be read (say which URL, and that it must be shared).
    """
    if envelope.kind == "inline":
        packed = base64.b64decode(envelope.data)
    else:
        path = _path_of(envelope.ref)
        try:
            packed = path.read_bytes()
        except OSError as exc:
            raise RunError(
                f"cannot read the blob {envelope.ref}: {exc.strerror}; the blob directory must be "
                "shared between the workers and the dispatcher (same path on every machine)"
            ) from exc
    return model_type.model_validate_json(zlib.decompress(packed))


def _path_of(location: str) -> Path:
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme:
        raise ConfigError(f"blob location {location!r}: only file:// URLs and paths are supported")
    return Path(location).expanduser().resolve()


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:80]
