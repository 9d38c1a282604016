"""Protocol list files (LFW pairs, YTF splits) as the numbered lines an editor shows."""
from __future__ import annotations

from pathlib import Path

from fverify.errors import FverifyError


def read_lines(path: Path, what: str, fix: str) -> list[str]:
    """The lines of a UTF-8 text file, ``lines[i]`` being line ``i + 1``, split at line ends
    only (``\\n``, ``\\r\\n``, ``\\r``). ``str.splitlines`` also splits at form feeds,
    ``\\x1c``-``\\x1e``, ``\\x85`` and U+2028/9, which would shift every later ``file:line``.
    ``what`` names the file in the error when it cannot be read, ``fix`` says what to do."""
    try:
        text = path.read_text(encoding="utf-8")  # universal newlines: \r\n and \r become \n
    except (OSError, UnicodeDecodeError) as error:
        raise FverifyError(f"cannot read {what}: {error}", where=str(path), fix=fix) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines
