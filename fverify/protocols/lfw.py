"""Labeled Faces in the Wild: View 2 (``pairs.txt``, 10 folds) and View 1 (``pairsDevTrain.txt``
+ ``pairsDevTest.txt``), read exactly as the LFW technical report (Huang et al. 2007) defines.

A pairs file starts with a header, ``k<TAB>n`` (k folds of n matched then n mismatched lines;
View 2 is ``10<TAB>300``) or a single ``n`` (one block; the View 1 files). Matched lines are
``name n1 n2``, mismatched ``name1 n1 name2 n2``. Folds come from these blocks, never from a
split of a filtered list. Image ``n`` of ``name`` is ``<name>/<name>_<n:04d>.<ext>``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fverify.errors import FverifyError, at
from fverify.fields import integer
from fverify.protocols.evalset import EvalSet, image_files_evalset
from fverify.protocols.official import differs_from_official, md5_of, official_path
from fverify.protocols.lines import read_lines
from fverify.protocols.protocol import Protocol

# Shipped lists per view.
VIEWS: dict[str, tuple[str, ...]] = {
    "2": ("lfw/pairs.txt",),
    "1": ("lfw/pairsDevTrain.txt", "lfw/pairsDevTest.txt"),
}
# View 1 is a fixed split, not a cross-validation: each file is one fold, the threshold is
# fitted on DevTrain and the result reported on DevTest (the view's use in the LFW technical
# report), never the reverse. Value: the index of the tested file; View 2 cross-validates.
TESTED_FILE: dict[str, int | None] = {"2": None, "1": 1}
PROTOCOL_NAMES = {"2": "lfw", "1": "lfw-view1"}
# Tried in this order on the first images of the list; the first that exists is used for the
# whole root (a root mixing extensions is reported as missing images, never guessed per file).
IMAGE_EXTENSIONS = ("jpg", "png", "jpeg")
KNOWN_ROOTS = ("lfw", "lfw-deepfunneled", "lfw-funneled")
# Every block holds both classes (the header asks for at least one of each), so only too few
# folds can fail.
FOLD_FIX = ("the header 'k<TAB>n' makes k folds and a k-fold evaluation needs k >= 2 (View 2's "
            "is '10\\t300'); use an intact copy of the list")
_PROBES = 50  # images tried when detecting the extension, so a few missing ones do not mislead


@dataclass(frozen=True)
class PairLines:
    """The parsed content of one or more pairs files, before images are located."""

    images: list[tuple[tuple[str, int], tuple[str, int]]]  # ((name, number), (name, number))
    labels: np.ndarray
    folds: np.ndarray
    files: np.ndarray  # index (into sources) of the file each pair was read from
    sources: tuple[str, ...]
    md5s: tuple[str, ...]
    fold_rule: str  # the header blocks the folds are, e.g. "pairs.txt: 10 blocks of 600 pairs"


def parse_pairs(paths: Sequence[str | Path], sources: Sequence[str] | None = None) -> PairLines:
    """Parse pairs files in order; the folds of each file follow those of the previous one.

    ``sources`` are the names recorded for the files (default: the paths as given).
    """
    images: list[tuple[tuple[str, int], tuple[str, int]]] = []
    labels: list[bool] = []
    folds: list[int] = []
    files: list[int] = []
    blocks: list[str] = []
    for file, path in enumerate(paths):
        first_fold = folds[-1] + 1 if folds else 0
        (num_folds, per_class), pair_lines = _parse_file(Path(path))
        for pair, label, fold in pair_lines:
            images.append(pair)
            labels.append(label)
            folds.append(first_fold + fold)
            files.append(file)
        blocks.append(f"{Path(path).name}: {num_folds} block{'s' if num_folds > 1 else ''} of "
                      f"{2 * per_class} pairs")
    return PairLines(images, np.array(labels, dtype=bool), np.array(folds, dtype=np.int64),
                     np.array(files, dtype=np.int64), tuple(sources or map(str, paths)),
                     tuple(md5_of(p) for p in paths),
                     f"one fold per header block ({'; '.join(blocks)})")


def to_protocol(lines: PairLines, name: str, extension: str = "jpg",
                tested_file: int | None = None) -> Protocol:
    """A Protocol whose items are the distinct images, in order of first appearance.

    Folds are the header blocks (cross-validation), or with ``tested_file`` one fold per file:
    a fixed split that fits the threshold on the other files and reports on that one.
    """
    index: dict[str, int] = {}
    pairs = np.empty((len(lines.images), 2), dtype=np.int64)
    for i, pair in enumerate(lines.images):
        for side, (person, number) in enumerate(pair):
            pairs[i, side] = index.setdefault(image_path(person, number, extension), len(index))
    folds, fold_rule = lines.folds, lines.fold_rule
    if tested_file is not None:
        folds, fold_rule = lines.files, _fixed_split_rule(lines, tested_file)
    return Protocol(name, tuple(index), pairs, lines.labels, folds,
                    source="+".join(lines.sources), source_md5="+".join(lines.md5s),
                    fold_rule=fold_rule, fold_fix=FOLD_FIX, test_fold=tested_file)


def _fixed_split_rule(lines: PairLines, tested_file: int) -> str:
    """The fold rule of a fixed split by file, with each file's name and pair count."""
    sizes = np.bincount(lines.files, minlength=len(lines.sources))
    described = [f"fold {file} = {Path(source).name} ({sizes[file]} pairs)"
                 for file, source in enumerate(lines.sources)]
    fitted = " + ".join(d for file, d in enumerate(described) if file != tested_file)
    return (f"fixed split, one fold per file: threshold fitted on {fitted}, every metric "
            f"reported on {described[tested_file]} alone")


def image_path(person: str, number: int, extension: str = "jpg") -> str:
    return f"{person}/{person}_{number:04d}.{extension}"


def load_lfw(data: str | Path, pairs: Sequence[str | Path] | None = None,
             view: str = "2") -> EvalSet:
    """LFW ready to run: parse the pairs list(s), find the images under ``data``, check them all.

    ``pairs`` replaces the shipped files of ``view`` (View 2: one file; View 1: DevTrain and
    DevTest); each is compared by md5 with the official one and a difference becomes a
    warning. Recorded sources are ``lfw/...`` for shipped lists, the path as given otherwise;
    View 1 joins its two sources and md5s with ``+``.
    """
    if view not in VIEWS:
        raise FverifyError(f"LFW has no view {view!r}", fix=f"choose one of: {', '.join(VIEWS)}")
    official = VIEWS[view]
    warnings: list[str] = []
    if pairs is None:
        lines = parse_pairs([official_path(name) for name in official], sources=official)
    else:
        if len(pairs) != len(official):
            raise FverifyError(f"LFW View {view} takes {len(official)} pairs file(s) "
                               f"({', '.join(Path(n).name for n in official)}), {len(pairs)} given",
                               fix="pass one --pairs file per official list, in that order")
        lines = parse_pairs(pairs)
        warnings += [w for p, n in zip(pairs, official) if (w := differs_from_official(p, n))]
    root = Path(data)
    extension = detect_extension(root, [image_path(*pair[0], "") for pair in lines.images])
    protocol = to_protocol(lines, PROTOCOL_NAMES[view], extension, TESTED_FILE[view])
    return image_files_evalset(
        protocol, root, warnings=tuple(warnings),
        fix="restore the missing files or point --data at a complete copy")


def detect_extension(root: Path, stems: Sequence[str]) -> str:
    """The image extension of this root, from the first listed images that exist
    (``stems`` end with the dot: ``Name/Name_0001.``)."""
    if not root.is_dir():
        raise FverifyError("image folder does not exist", where=str(root),
                           fix="pass --data the folder holding <Name>/<Name>_0001.jpg")
    for stem in stems[:_PROBES]:
        for extension in IMAGE_EXTENSIONS:
            if _is_file(root / f"{stem}{extension}"):
                return extension
    nested = [root / name for name in (*KNOWN_ROOTS, root.name) if (root / name).is_dir()]
    fix = (f"point --data at {nested[0]}" if nested else
           "pass --data the folder holding <Name>/<Name>_0001.jpg: lfw/, lfw-deepfunneled/, "
           "lfw-funneled/ or an aligned copy in the same layout (.jpg or .png)")
    raise FverifyError(
        f"none of the first {min(len(stems), _PROBES)} listed images exists as "
        f"{'/'.join('.' + e for e in IMAGE_EXTENSIONS)} (e.g. {stems[0]}jpg)",
        where=str(root), fix=fix)


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a path the system cannot look up (a name too long): a
    probe, not the check; the check of every image reports such paths."""
    try:
        return path.is_file()
    except OSError:
        return False


def _parse_file(path: Path) -> tuple[tuple[int, int], list]:
    """``((folds, pairs per class), [(pair, same, fold) per pair line])`` of one file, after
    checking the header and the number of lines against it."""
    lines = read_lines(path, "pairs file", fix="check the path (or drop --pairs to use the "
                       "shipped list)")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FverifyError("empty pairs file", where=at(path, 1),
                           fix="expected a header like '10\\t300' followed by pair lines")
    num_folds, per_class = _header(lines[0], path)
    body = lines[1:]
    expected = 2 * per_class * num_folds
    if len(body) != expected:
        raise FverifyError(
            f"the header says {num_folds} fold(s) x ({per_class} matched + {per_class} mismatched)"
            f" = {expected} pair lines, but the file has {len(body)}"
            + (" (truncated?)" if len(body) < expected else ""),
            where=at(path, len(lines)),
            fix="use an intact copy of the list, or correct the header")
    pair_lines = []
    for offset, line in enumerate(body):
        fold, position = divmod(offset, 2 * per_class)
        same = position < per_class
        pair_lines.append((_pair(line, same, path, offset + 2, fold), same, fold))
    return (num_folds, per_class), pair_lines


def _header(line: str, path: Path) -> tuple[int, int]:
    counts = [integer(field, minimum=1) for field in line.split()]
    expected = "a header 'folds<TAB>pairs per class' (View 2: '10\\t300') or one count ('1100')"
    if len(counts) not in (1, 2) or None in counts:
        raise FverifyError(f"expected {expected}, found {line!r}", where=at(path, 1),
                           fix="use an intact copy of the list")
    return (counts[0], counts[1]) if len(counts) == 2 else (1, counts[0])


def _pair(line: str, same: bool, path: Path, number: int, fold: int):
    fields = line.split()
    if same and len(fields) != 3 or not same and len(fields) != 4:
        kind = ("a matched pair 'name<TAB>n1<TAB>n2'" if same else
                "a mismatched pair 'name1<TAB>n1<TAB>name2<TAB>n2'")
        raise FverifyError(f"expected {kind} here (fold {fold + 1}), found {len(fields)} "
                           f"field(s): {line!r}", where=at(path, number),
                           fix="each fold lists its matched pairs, then its mismatched pairs, "
                           "as many of each as the header says")
    names = (fields[0], fields[0]) if same else (fields[0], fields[2])
    for name in names:
        # a name is one folder of the image root; a slash or a dot folder would reach outside
        if "/" in name or "\\" in name or name in (".", ".."):
            raise FverifyError(f"person name {name!r} is not a folder name: {line!r}",
                               where=at(path, number), fix="use an intact copy of the list")
    texts = (fields[1], fields[2]) if same else (fields[1], fields[3])
    numbers = [integer(text, minimum=1) for text in texts]
    for text, value in zip(texts, numbers):
        if value is None:
            raise FverifyError(f"image number {text!r} is not a positive integer: {line!r}",
                               where=at(path, number), fix="use an intact copy of the list")
    return (names[0], numbers[0]), (names[1], numbers[1])
