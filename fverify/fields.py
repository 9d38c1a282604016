"""The text fields every pair and score file shares, read by one strict rule everywhere:
same/different labels, integers (fold ids, image numbers, counts) and numbers (scores).

Python's own parsers are too lenient for data files: ``int`` and ``float`` accept ``'1_0'``
(= 10), Arabic-Indic and full-width digits, and ``str.isdigit`` admits ``'²'``; ``int`` raises
ValueError past 4,300 digits and numpy raises OverflowError on an id of 2**63. Letting such text
through turns a typo into a traceback or a silently different number. Here a field is ASCII
only: surrounding ASCII whitespace, then an optional sign, digits, and for numbers a decimal
point and exponent; no underscores; bounded length.
"""
from __future__ import annotations

import math
import re
import string
import sys

from fverify.errors import FverifyError

LABELS = {"1": True, "0": False, "true": True, "false": False}
# 18 digits always fit an int64 (2**63 is about 9.2e18), so an integer never overflows numpy.
MAX_INTEGER_DIGITS = 18
# Far longer than any float repr (at most 24 characters); long enough for a 60-digit decimal.
MAX_NUMBER_CHARS = 100
SHOWN_CHARS = 40
# No float lies below it, so no threshold could call a pair of this score same.
LOWEST_FLOAT = -sys.float_info.max
_INTEGER = re.compile(rf"-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}")
# Python's float grammar without underscores: digits with an optional point, or a point and
# digits, then an optional exponent; or the words nan/inf/infinity (callers refuse those by
# name). re.ASCII keeps [0-9] and IGNORECASE from matching non-ASCII look-alikes.
_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
                     re.ASCII | re.IGNORECASE)


def shown(text: str) -> str:
    """``text`` quoted for a message, cut to its start when long (a field can be megabytes)."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS // 2]!r}... ({len(text):,} characters)"


def integer(text: str, minimum: int | None = None) -> int | None:
    """The integer ``text`` spells (ASCII digits, an optional leading minus, at most 18 digits,
    surrounding ASCII whitespace allowed), or None when it is not one or is below ``minimum``."""
    text = text.strip(string.whitespace)
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return None if minimum is not None and value < minimum else value


def number(text: str) -> float | None:
    """The float ``text`` spells (ASCII decimal or scientific notation, surrounding ASCII
    whitespace allowed, at most 100 characters), or None when it is not one. ``nan``, ``inf``
    and ``infinity`` (any case, signed) read as the non-finite floats they name, and a finite
    spelling beyond the float range as +-inf: callers decide whether those are allowed."""
    text = text.strip(string.whitespace)
    if len(text) > MAX_NUMBER_CHARS or not _NUMBER.fullmatch(text):
        return None
    return float(text)


def parse_fold_id(text: str, where: str) -> int:
    """A fold id from a file's fold column; ``where`` is ``file:line``."""
    value = integer(text)
    if value is None:
        digits = text.strip(string.whitespace).removeprefix("-")
        if digits.isascii() and digits.isdigit():
            raise FverifyError(f"fold {shown(text)} has more than {MAX_INTEGER_DIGITS} digits",
                               where=where, fix="fold ids are small integers: 0..k-1 or 1..k")
        raise FverifyError(f"fold {shown(text)} is not an integer", where=where,
                           fix="fold ids are 0..k-1 or 1..k")
    return value


def parse_score(text: str, where: str) -> float:
    """A pair score: a finite number (see :func:`number`) above :data:`LOWEST_FLOAT`, so that
    every threshold the metrics place between and below scores is a finite number; ``where``
    is ``file:line``."""
    value = number(text)
    if value is None:
        raise FverifyError(f"score {shown(text)} is not a number", where=where,
                           fix="scores must be numbers in ASCII decimal or scientific notation, "
                           "e.g. 0.25 or -1.5e-3")
    if not math.isfinite(value):
        spelling = text.strip(string.whitespace)
        what = (f"score is {spelling}" if spelling.lstrip("+-").isalpha()
                else f"score {shown(text)} is beyond the float range")
        raise FverifyError(what, where=where, fix="scores must be finite numbers; fix what produced it")
    if value == LOWEST_FLOAT:
        raise FverifyError(f"score {shown(text)} is the lowest float: no threshold lies below it",
                           where=where, fix="scores must be above -1.7976931348623157e308, so that "
                           "a threshold can call every pair same; rescale them")
    return value


def parse_label(text: str, where: str) -> bool:
    """True for a same-identity pair: ``1``/``0`` or ``true``/``false`` in any case;
    ``where`` is ``file:line``."""
    value = LABELS.get(text.strip(string.whitespace).lower())
    if value is None:
        raise FverifyError(f"label {shown(text)} is not 0 or 1", where=where,
                           fix="use 1 (same) or 0 (different); true/false also work")
    return value
