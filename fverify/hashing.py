"""Checksums of files, as results record them (protocol lists: md5; models: sha256), of
settings, as cache keys and pairing keys use them, and of fverify's own source, as cache
keys of computed data use it."""
from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
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


def source_sha256(package: str, modules: tuple[str, ...] | None = None) -> str:
    """SHA-256 over the source files of ``package`` (its ``modules``, names without ``.py``;
    default: every module), name and bytes, sorted: any edit to the code that computed a
    cached result makes a new key, so the cache never answers for other code."""
    digest = hashlib.sha256()
    folder = resources.files(package)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py") and (modules is None or entry.name[:-3] in modules):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()
