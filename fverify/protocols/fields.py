"""The text fields every pair and score file shares, read one way everywhere: same/different
labels and integers.

Integers are ASCII digits with an optional leading minus, nothing else: ``str.isdigit`` admits
``'²'`` and ``int`` admits ``'1_0'`` and ``'+1'``, and letting such text through turns a typo
into a traceback or a silently different number.
"""
from __future__ import annotations

import re

from fverify.errors import FverifyError

LABELS = {"1": True, "0": False, "true": True, "false": False}
_INTEGER = re.compile(r"-?[0-9]+")


def integer(text: str, minimum: int | None = None) -> int | None:
    """The integer ``text`` spells (surrounding spaces allowed), or None when it is not one or
    is below ``minimum``."""
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return None if minimum is not None and value < minimum else value


def parse_fold_id(text: str, where: str) -> int:
    """A fold id from a file's fold column; ``where`` is ``file:line``."""
    value = integer(text)
    if value is None:
        raise FverifyError(f"fold {text!r} is not an integer", where=where,
                           fix="fold ids are 0..k-1 or 1..k")
    return value


def parse_label(text: str, where: str) -> bool:
    """True for a same-identity pair: ``1``/``0`` or ``true``/``false`` in any case;
    ``where`` is ``file:line``."""
    value = LABELS.get(text.strip().lower())
    if value is None:
        raise FverifyError(f"label {text!r} is not 0 or 1", where=where,
                           fix="use 1 (same) or 0 (different); true/false also work")
    return value
