"""Checksums of files, as results record them (protocol lists: md5; models: sha256), and of
settings, as cache keys and pairing keys use them."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any


def file_digest(path: str | os.PathLike[str], algorithm: str) -> str:
    """Hex digest of a file's bytes with ``algorithm`` (a hashlib name), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def json_sha256(value: Any) -> str:
    """sha256 of ``value`` as canonical JSON (keys sorted): equal settings, equal key."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
