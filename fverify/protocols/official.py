"""The official protocol lists shipped with fverify, and checks of user copies against them."""
from __future__ import annotations

from pathlib import Path

from fverify.errors import FverifyError
from fverify.hashing import file_digest

# A symlink to the top-level protocols/ in a checkout, a real folder in an installed wheel.
_LISTS = Path(__file__).resolve().parents[1] / "_protocol_lists"


def lists_root() -> Path:
    """Folder holding the shipped lists (``lfw/pairs.txt``, ``ytf/splits.txt``, ``MANIFEST``)."""
    return _LISTS


def manifest() -> dict[str, tuple[str, str]]:
    """``relative path -> (md5, source)`` from the shipped MANIFEST."""
    entries = {}
    for line in (lists_root() / "MANIFEST").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, md5, source = line.split("\t")
            entries[name] = (md5, source)
    return entries


def official_path(name: str) -> Path:
    """Path of a shipped list by its manifest name, e.g. ``"lfw/pairs.txt"``."""
    if name not in manifest():
        raise FverifyError(
            f"no official list named {name!r}",
            fix=f"choose one of: {', '.join(sorted(manifest()))}",
        )
    return lists_root() / name


def md5_of(path: str | Path) -> str:
    """Hex md5 of a file, the checksum the official lists are published with."""
    return file_digest(path, "md5")


def differs_from_official(path: str | Path, name: str) -> str | None:
    """A warning when the file at ``path`` is not byte-identical to the official ``name``."""
    expected = manifest()[name][0]
    actual = md5_of(path)
    if actual == expected:
        return None
    return (
        f"{path}: md5 {actual} differs from the official {name} ({expected}); "
        "results will not be comparable with published numbers"
    )
