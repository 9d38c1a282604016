"""What an adapter hands to the embedder: a checked Protocol plus every image to embed."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fverify.data.images import ImageBytes, ImageFiles
from fverify.errors import FverifyError
from fverify.protocols.protocol import Protocol


@dataclass(frozen=True, eq=False)
class EvalSet:
    """A protocol ready to run: every file it needs was found before any compute.

    ``images`` holds every image to embed, each exactly once. For image protocols
    ``image_item`` is None and image ``i`` is ``protocol.items[i]``. For video protocols
    ``image_item[j]`` is the item (video) index of image ``j``; the frames of a video are
    contiguous, in frame-number order, and videos follow item order (``image_item`` is
    non-decreasing and every item has at least one frame). ``data_root`` is the folder (or
    ``.bin`` file) the items were found in. ``warnings`` are things the user should know that
    do not stop a run (a pairs file that differs from the official one); results record them.
    """

    protocol: Protocol
    images: ImageFiles | ImageBytes
    image_item: np.ndarray | None
    data_root: str
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        num_items = len(self.protocol.items)
        if self.image_item is None:
            if len(self.images) != num_items:
                raise ValueError(f"{len(self.images)} images for {num_items} items; with "
                                 "image_item=None they must align one to one")
            return
        item = np.asarray(self.image_item)
        if item.shape != (len(self.images),):
            raise ValueError(f"image_item has shape {item.shape}, expected ({len(self.images)},)")
        steps = np.diff(item)
        if not len(item) or item[0] != 0 or item[-1] != num_items - 1 or not np.all((steps == 0) | (steps == 1)):
            raise ValueError("image_item must be non-decreasing and give every item at least one image")

    @property
    def num_images(self) -> int:
        return len(self.images)

    def frames_per_item(self) -> np.ndarray:
        """Number of images of each item (all ones for image protocols)."""
        if self.image_item is None:
            return np.ones(len(self.protocol.items), dtype=np.int64)
        return np.bincount(self.image_item, minlength=len(self.protocol.items))


def counts(evalset: EvalSet) -> dict:
    """The numbers ``--validate`` prints: pairs, folds (and where they came from),
    positives/negatives per fold, items, images (frames for videos), plus frames per video for
    video protocols."""
    protocol = evalset.protocol
    positives = np.bincount(protocol.folds, weights=protocol.labels, minlength=protocol.num_folds)
    totals = np.bincount(protocol.folds, minlength=protocol.num_folds)
    result = {
        "protocol": protocol.name,
        "source": protocol.source,
        "source_md5": protocol.source_md5,
        "data_root": evalset.data_root,
        "item_kind": protocol.item_kind,
        "pairs": protocol.num_pairs,
        "positives": int(protocol.labels.sum()),
        "negatives": int((~protocol.labels).sum()),
        "fold_rule": protocol.fold_rule,
        "folds": [{"fold": f, "positives": int(p), "negatives": int(t - p)}
                  for f, (p, t) in enumerate(zip(positives, totals))],
        "items": len(protocol.items),
        "images": evalset.num_images,
        "missing": 0,  # an EvalSet exists only when nothing is missing
    }
    if protocol.item_kind == "video":
        frames = evalset.frames_per_item()
        result["frames_per_video"] = {"min": int(frames.min()), "median": float(np.median(frames)),
                                      "max": int(frames.max())}
    return result


def missing_error(groups: list[tuple[str, list[str]]], where: str, fix: str) -> FverifyError:
    """One error listing every group of missing files, each as ``(summary, names)`` (e.g.
    ``("12 of 7701 images are missing", [...])``) with its first few names as examples:
    nothing is skipped, the run stops here."""
    parts = []
    for summary, names in groups:
        shown = "".join(f"\n    {name}" for name in names[:EXAMPLES])
        more = f"\n    ... and {len(names) - EXAMPLES} more" if len(names) > EXAMPLES else ""
        parts.append(f"{summary}:{shown}{more}")
    return FverifyError("\n".join(parts), where=where, fix=fix)


EXAMPLES = 10  # how many missing files an error lists by name


def image_files_evalset(protocol: Protocol, root: Path, *, fix: str,
                        warnings: tuple[str, ...] = ()) -> EvalSet:
    """The EvalSet of an image protocol whose items are files under ``root``, after checking
    that every one exists (else one error listing the missing, with ``fix`` as the advice)."""
    images = ImageFiles(root, protocol.items)
    try:
        missing = images.missing()
    except OSError as error:  # a name too long for the file system, a folder not readable
        raise FverifyError(f"cannot look for image {error.filename}: {error.strerror}",
                           where=str(root), fix=fix) from None
    if missing:
        raise missing_error([(f"{len(missing)} of {len(images)} images are missing", missing)],
                            str(root), fix=f"{fix}; fverify never drops pairs")
    return EvalSet(protocol, images, None, str(root), warnings)
