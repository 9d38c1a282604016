"""YouTube Faces (Wolf, Hassner and Maoz, CVPR 2011): ``splits.txt`` and the frame folders.

splits.txt: one header line (skipped whatever it says), then one row per pair,
``split, pair, Name/video, Name/video, is_same``: 10 splits of 500 pairs (250 same, then 250
different); fold = split. Frames are found in one of two layouts under ``--data``:

- official: ``aligned_images_DB/<Name>/<video>/aligned_detect_<video>.<frame>.jpg``
- plain: ``<Name>/<video>/*.jpg`` (pre-aligned frames, e.g. ``--data`` pointed at
  ``aligned_images_DB`` itself or at a re-aligned copy).

The frame number of a file is the last run of digits in its name (``aligned_detect_3.125``
-> 125, ``0007`` -> 7), and frames are ordered by that number, never lexicographically.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from fverify.data.images import ImageFiles
from fverify.errors import FverifyError, at
from fverify.fields import integer
from fverify.protocols.evalset import EvalSet, missing_error
from fverify.protocols.official import differs_from_official, md5_of, official_path
from fverify.protocols.lines import read_lines
from fverify.protocols.protocol import Protocol

OFFICIAL_SPLITS = "ytf/splits.txt"
ALIGNED_FOLDER = "aligned_images_DB"
FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def parse_splits(path: str | Path, source: str | None = None) -> Protocol:
    """The YTF pairs as a video Protocol (items ``Name/video`` in order of first appearance).

    Rows have five comma-separated fields; whitespace around fields and one trailing extra
    column (a label some copies add) are tolerated. Split ids are 1-based in the file.
    """
    path = Path(path)
    lines = read_lines(path, "splits file", fix="check the path (or drop --splits to use the "
                       "shipped list)")
    index: dict[str, int] = {}
    pairs, labels, folds = [], [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        split, first, second, same = _row(line, path, number)
        if split > len(lines) - 1:  # k splits need at least k rows: a typo, refused at its line
            raise FverifyError(f"split {split} is out of range: the file has {len(lines) - 1} rows "
                               "after the header", where=at(path, number),
                               fix="split ids are 1..k (the official list has 10)")
        pairs.append((index.setdefault(first, len(index)), index.setdefault(second, len(index))))
        labels.append(same)
        folds.append(split - 1)
    if not pairs:
        raise FverifyError("no pair rows after the header line", where=at(path, 1),
                           fix="expected rows 'split, pair, Name/video, Name/video, is_same'")
    return Protocol("ytf", tuple(index), np.array(pairs, dtype=np.int64), np.array(labels, dtype=bool),
                    np.array(folds, dtype=np.int64), source=source or str(path),
                    source_md5=md5_of(path), item_kind="video",
                    fold_rule="the split column of the file (splits 1..k)",
                    fold_fix="every split needs same and different pairs, and there must be at "
                    "least 2 splits (the official list has 10 of 250 + 250): use an intact copy "
                    "of splits.txt")


def load_ytf(data: str | Path, splits: str | Path | None = None) -> EvalSet:
    """YTF ready to run: parse the splits, list every video's frames, check none is absent or
    empty. ``splits`` replaces the shipped list (md5 difference -> warning)."""
    warnings: tuple[str, ...] = ()
    if splits is None:
        protocol = parse_splits(official_path(OFFICIAL_SPLITS), source=OFFICIAL_SPLITS)
    else:
        protocol = parse_splits(splits)
        warning = differs_from_official(splits, OFFICIAL_SPLITS)
        warnings = (warning,) if warning else ()
    root = Path(data)
    if not root.is_dir():
        raise FverifyError("frame folder does not exist", where=str(root),
                           fix=f"pass --data the folder holding {ALIGNED_FOLDER}/ (or <Name>/<video>/ frames)")
    videos_root = root / ALIGNED_FOLDER if (root / ALIGNED_FOLDER).is_dir() else root
    frames: list[str] = []
    image_item: list[int] = []
    absent, empty, problems = [], [], []
    for item, video in enumerate(protocol.items):
        folder = videos_root / video
        try:
            if not folder.is_dir():
                absent.append(video)
                continue
            names, unnumbered = _frames(folder)
        except OSError as error:  # a name too long for the file system, a folder not readable
            raise FverifyError(f"cannot list the frames of video {video!r}: {error.strerror}",
                               where=str(videos_root),
                               fix="check the video names in the splits file and the folder's "
                               "permissions") from None
        if unnumbered:
            problems.append(f"{video}: no frame number in {', '.join(unnumbered[:3])}")
        if not names:
            empty.append(video)
            continue
        prefix = os.path.relpath(folder, root).replace(os.sep, "/")
        frames += [f"{prefix}/{name}" for name in names]
        image_item += [item] * len(names)
    if absent or empty:
        total = len(protocol.items)
        groups = [(f"{len(absent)} of {total} videos are absent (no folder)", absent),
                  (f"{len(empty)} of {total} videos are empty (no frames)", empty)]
        raise missing_error([g for g in groups if g[1]], str(videos_root),
                            fix="restore the videos or point --data at a complete copy; "
                            "fverify never drops pairs")
    if problems:
        raise FverifyError("frame files whose names carry no frame number:\n    "
                           + "\n    ".join(problems[:10]), where=str(videos_root),
                           fix="name frames with their number (e.g. aligned_detect_3.125.jpg)")
    return EvalSet(protocol, ImageFiles(root, frames), np.array(image_item, dtype=np.int64),
                   str(root), warnings)


def frame_number(name: str) -> int | None:
    """The last run of digits in a file name without its extension, or None."""
    match = _LAST_NUMBER.search(os.path.splitext(name)[0])
    return int(match.group(1)) if match else None


def _frames(folder: Path) -> tuple[list[str], list[str]]:
    """(frame file names ordered by frame number, image files with no number)."""
    numbered, unnumbered = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.lower().endswith(FRAME_EXTENSIONS) and entry.is_file():
                number = frame_number(entry.name)
                (unnumbered.append(entry.name) if number is None
                 else numbered.append((number, entry.name)))
    numbered.sort()
    return [name for _, name in numbered], sorted(unnumbered)


def _row(line: str, path: Path, number: int) -> tuple[int, str, str, bool]:
    fields = [field.strip() for field in line.split(",")]
    expected = "'split, pair, Name/video, Name/video, is_same'"
    if len(fields) not in (5, 6):
        raise FverifyError(f"expected 5 comma-separated fields {expected}, found {len(fields)}: "
                           f"{line!r}", where=at(path, number), fix="use an intact copy of the list")
    split_text, pair, first, second, same = fields[:5]
    split = integer(split_text, minimum=1)
    if split is None or integer(pair, minimum=0) is None:
        raise FverifyError(f"split and pair ids must be positive integers: {line!r}",
                           where=at(path, number), fix=f"rows read {expected}")
    for video in (first, second):
        name, _, clip = video.partition("/")
        # two folder names under the frame root: empty, dot or nested parts would reach outside
        if any(part in ("", ".", "..") or "\\" in part for part in (name, clip)) or "/" in clip:
            raise FverifyError(f"video {video!r} is not 'Name/video': {line!r}",
                               where=at(path, number), fix=f"rows read {expected}")
    if same not in ("0", "1"):
        raise FverifyError(f"is_same must be 0 or 1, found {same!r}: {line!r}",
                           where=at(path, number), fix=f"rows read {expected}")
    return split, first, second, same == "1"
