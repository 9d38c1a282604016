"""LFW-style person names (``First_Last``) for synthetic identities, unique and seeded."""
from __future__ import annotations

import numpy as np

_ONSETS = ("b", "br", "c", "ch", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s",
           "sh", "st", "t", "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou")
_CODAS = ("", "", "", "n", "r", "s", "l", "m", "nd", "rt", "x")


def person_names(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct names like ``Dalo_Brinteas``: letters and one underscore, as LFW's
    folder names, so they survive every file system and the pairs.txt tab format."""
    rng = np.random.default_rng([seed, 0x4E])
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = f"{_word(rng, 2)}_{_word(rng, int(rng.integers(2, 4)))}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _word(rng: np.random.Generator, syllables: int) -> str:
    parts = [
        _ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))]
        for _ in range(syllables)
    ]
    return ("".join(parts) + _CODAS[rng.integers(len(_CODAS))]).capitalize()
