"""Checksums of files, as results record them (protocol lists: md5; models: sha256)."""
from __future__ import annotations

import hashlib
import os


def file_digest(path: str | os.PathLike[str], algorithm: str) -> str:
    """Hex digest of a file's bytes with ``algorithm`` (a hashlib name), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
