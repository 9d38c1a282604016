"""A synthetic LFW: the real folder tree and View 2 ``pairs.txt`` / ``people.txt`` formats."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fverify.atomic import atomic_directory
from fverify.data.images import ImageFiles, encode_image
from fverify.data.synth.faces import render_images, sample_identity
from fverify.data.synth.names import person_names
from fverify.errors import FverifyError

IMAGE_FORMATS = ("jpg", "png")


def write_lfw(out: str | Path, *, num_folds: int = 10, pairs_per_fold: int = 30,
              people_per_fold: int = 24, max_images: int = 6, seed: int = 0,
              image_format: str = "jpg") -> dict[str, int]:
    """Write ``out/<Name>/<Name>_%04d.<image_format>`` and ``out/pairs.txt``, ``out/people.txt``.

    pairs.txt is in the View 2 format: header ``num_folds<TAB>pairs_per_fold``, then per fold
    ``pairs_per_fold`` matched lines ``name n1 n2`` followed by as many mismatched lines
    ``name1 n1 name2 n2``, tab-separated, each block sorted like the real file. Folds share no
    person. Each person has 1..``max_images`` images; person ``i`` is synthetic identity ``i``
    of ``seed``. people.txt lists each fold's people as the real View 2 people.txt does.
    Returns the counts written (people, images, pairs).
    """
    if image_format not in IMAGE_FORMATS:
        raise FverifyError(f"image format {image_format!r} is not supported",
                           fix=f"choose one of: {', '.join(IMAGE_FORMATS)}")
    if min(num_folds, pairs_per_fold, max_images) < 1 or people_per_fold < 2:
        raise FverifyError("synthetic LFW needs >= 1 fold, pair per fold and image per person, "
                           "and >= 2 people per fold", fix="raise the sizes")
    rng = np.random.default_rng([seed, 0x1F])
    num_people = num_folds * people_per_fold
    names = person_names(num_people, seed)
    counts = rng.integers(1, max_images + 1, size=num_people)
    folds = [range(f * people_per_fold, (f + 1) * people_per_fold) for f in range(num_folds)]
    lines = [f"{num_folds}\t{pairs_per_fold}"]
    for people in folds:
        _top_up(rng, counts, people, pairs_per_fold, max_images)
        lines += _matched(rng, names, counts, people, pairs_per_fold)
        lines += _mismatched(rng, names, counts, people, pairs_per_fold)
    people_lines = [str(num_folds)]
    for people in folds:
        people_lines.append(str(len(people)))
        people_lines += sorted(f"{names[i]}\t{counts[i]}" for i in people)

    with atomic_directory(out) as root:
        for person, (name, count) in enumerate(zip(names, counts)):
            folder = root / name
            folder.mkdir()
            images = render_images(sample_identity(seed, person), int(count), seed=seed)
            for number, image in enumerate(images, 1):
                (folder / f"{name}_{number:04d}.{image_format}").write_bytes(
                    encode_image(image, image_format))
        (root / "pairs.txt").write_text("\n".join(lines) + "\n", encoding="ascii")
        (root / "people.txt").write_text("\n".join(people_lines) + "\n", encoding="ascii")
    return {"people": num_people, "images": int(counts.sum()),
            "pairs": 2 * num_folds * pairs_per_fold}


def _top_up(rng: np.random.Generator, counts: np.ndarray, people: range, n: int,
            max_images: int) -> None:
    """Give random people of the fold one more image until ``n`` matched pairs are possible
    (LFW-like counts are mostly 1 or 2, which can leave a small fold short)."""
    fold = counts[people.start:people.stop]  # a view: changes land in counts
    while (fold * (fold - 1) // 2).sum() < n and (fold < max_images).any():
        fold[rng.choice(np.flatnonzero(fold < max_images))] += 1


def _matched(rng: np.random.Generator, names: Sequence[str], counts: np.ndarray,
             people: range, n: int) -> list[str]:
    candidates = [(p, a, b) for p in people for a in range(1, counts[p] + 1)
                  for b in range(a + 1, counts[p] + 1)]
    if len(candidates) < n:
        raise FverifyError(
            f"a fold's people allow only {len(candidates)} matched pairs, {n} asked",
            fix="raise --people-per-fold or --max-images, or lower --pairs-per-fold")
    chosen = [candidates[i] for i in rng.choice(len(candidates), n, replace=False)]
    return [f"{names[p]}\t{a}\t{b}" for p, a, b in sorted(chosen, key=lambda c: (names[c[0]], c[1:]))]


def _mismatched(rng: np.random.Generator, names: Sequence[str], counts: np.ndarray,
                people: range, n: int) -> list[str]:
    chosen: set[tuple[int, int, int, int]] = set()
    fold_counts = counts[people.start:people.stop].astype(np.int64)
    possible = (int(fold_counts.sum()) ** 2 - int((fold_counts**2).sum())) // 2
    if possible < n:
        raise FverifyError(f"a fold's people allow too few mismatched pairs for {n}",
                           fix="raise --people-per-fold or --max-images")
    while len(chosen) < n:
        p, q = sorted(rng.choice(people, 2, replace=False), key=lambda i: names[i])
        chosen.add((p, int(rng.integers(1, counts[p] + 1)), q, int(rng.integers(1, counts[q] + 1))))
    return [f"{names[p]}\t{a}\t{names[q]}\t{b}"
            for p, a, q, b in sorted(chosen, key=lambda c: (names[c[0]], c[1], names[c[2]], c[3]))]


def write_lfw_images(out: str | Path, count: int, *, seed: int = 0) -> ImageFiles:
    """At least ``count`` synthetic face JPEGs in the LFW tree layout under ``out`` (with a
    two-fold pairs.txt); returns the first ``count`` of them as an image list, sorted by path.
    For benchmarks that need face images on disk, not a protocol."""
    people = -(-count // 3) + 2  # 1..6 images each (3.5 on average), topped up for the pairs
    write_lfw(out, num_folds=2, pairs_per_fold=1, people_per_fold=people, max_images=6, seed=seed)
    paths = sorted(p.relative_to(out).as_posix() for p in Path(out).glob("*/*.jpg"))
    if len(paths) < count:
        raise FverifyError(f"synthetic LFW made {len(paths)} images, fewer than the {count} asked",
                           fix="ask for fewer images")
    return ImageFiles(out, paths[:count])
