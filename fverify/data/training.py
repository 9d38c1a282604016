"""Training datasets: image folders, insightface RecordIO and synthetic identities, behind one type.

A :class:`TrainingSet` yields ``(image, label, index)``: a uint8 ``(3, H, W)`` RGB tensor, the
identity's label in ``0 .. num_classes-1`` and the sample's index. Labels are known without
decoding any image (``dataset.labels``), so samplers and class counts cost nothing.

Decode failures: an image that cannot be read or decoded during training, or that is not
``input_size``, is yielded as a zero image with label ``-1``; the trainer counts those and stops
past its configured fraction, naming them with ``dataset.describe(index)`` (``dataset.load(index)``
raises the :class:`FverifyError` that says why). Nothing is dropped silently, and
:func:`validate_training_set` finds such images before training starts.

No augmentation happens here: the trainer flips.
"""
from __future__ import annotations

import abc
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fverify.data.images import decode_image, read_image
from fverify.data.recordio import IndexedRecordFile, read_layout
from fverify.data.synth import SIZE as SYNTH_SIZE
from fverify.data.synth import make_identities, render_dataset
from fverify.errors import FverifyError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


class TrainingSet(torch.utils.data.Dataset, abc.ABC):
    """Images of identities with integer labels; subclasses say where the images come from."""

    num_classes: int
    labels: np.ndarray                 # int64 (len,): each sample's label
    source: str                        # one line: kind, path, counts
    input_size: tuple[int, int]        # (H, W) of the images yielded
    identity_names: tuple[str, ...]    # label -> the identity's name (folder, record label, ...)
    ignored: tuple[tuple[str, str], ...]  # (where, why) of things found but not used

    def __init__(self, labels: np.ndarray, identity_names: tuple[str, ...], source: str,
                 input_size: tuple[int, int], ignored: tuple[tuple[str, str], ...] = ()):
        self.labels = np.asarray(labels, dtype=np.int64)
        self.identity_names = identity_names
        self.num_classes = len(identity_names)
        self.input_size = input_size
        self.ignored = ignored
        self.source = (f"{source}: {self.num_classes} identities, {len(self.labels)} images, "
                       f"{input_size[0]}x{input_size[1]}")

    def __len__(self) -> int:
        return len(self.labels)

    @abc.abstractmethod
    def describe(self, index: int) -> str:
        """Where sample ``index`` is stored (a file, a record), for messages."""

    @abc.abstractmethod
    def decode(self, index: int) -> np.ndarray:
        """Sample ``index`` as stored: ``(h, w, 3)`` uint8 RGB; FverifyError when unreadable."""

    def stored_label(self, index: int) -> int | None:
        """The label the stored sample itself states, where the format keeps one per sample
        beside the one :attr:`labels` came from (validation checks they agree); else None."""
        return None

    def load(self, index: int) -> np.ndarray:
        """Sample ``index`` as ``(H, W, 3)`` uint8 RGB of ``input_size``, or FverifyError."""
        image = self.decode(index)
        if image.shape[:2] != self.input_size:
            raise FverifyError(
                f"image is {image.shape[0]}x{image.shape[1]}, training expects aligned faces of "
                f"{self.input_size[0]}x{self.input_size[1]}", where=self.describe(index),
                fix="align the faces to the input size first (`fverify align`), or set the input size")
        return image

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        try:
            image, label = self.load(index), int(self.labels[index])
        except FverifyError:
            image, label = np.zeros((*self.input_size, 3), dtype=np.uint8), -1
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), label, int(index)


class ImageFolderSet(TrainingSet):
    """``root/<identity>/<image>.jpg|.jpeg|.png`` (CASIA-WebFace, VGGFace2, `fverify align`
    output): identities are the sub-folders, labelled in sorted name order; images in sorted
    name order within each. Anything else (files outside identity folders, non-image files,
    nested folders, identity folders without images) is listed in :attr:`ignored`."""

    def __init__(self, root: str | Path, input_size: tuple[int, int]):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FverifyError("training image folder not found", where=str(self.root),
                               fix="give the folder that holds one sub-folder per identity")
        names, paths, labels, ignored = [], [], [], []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if not entry.is_dir():
                ignored.append((entry.path, "file outside any identity folder"))
                continue
            images = []
            for item in sorted(os.scandir(entry.path), key=lambda e: e.name):
                if item.is_file() and item.name.lower().endswith(IMAGE_EXTENSIONS):
                    images.append(f"{entry.name}/{item.name}")
                else:
                    kind = "folder" if item.is_dir() else "non-image file"
                    ignored.append((item.path, f"{kind} (images are {', '.join(IMAGE_EXTENSIONS)})"))
            if not images:
                ignored.append((entry.path, "identity folder without images"))
                continue
            labels += [len(names)] * len(images)
            paths += images
            names.append(entry.name)
        # One bytes array, not a list of str: forked DataLoader workers then share its pages
        # (touching Python objects' reference counts would copy them into every worker).
        self._paths = np.array([os.fsencode(p) for p in paths], dtype=bytes)
        super().__init__(np.array(labels, dtype=np.int64), tuple(names), f"folder {self.root}",
                         input_size, tuple(ignored))

    def describe(self, index: int) -> str:
        return str(self.root / os.fsdecode(self._paths[index]))

    def decode(self, index: int) -> np.ndarray:
        return read_image(self.describe(index))


class RecordIOSet(TrainingSet):
    """insightface ``train.rec`` + ``train.idx`` (faces_webface_112x112, faces_emore, ...).

    With insightface's header record, label ``i`` is the ``i``-th identity record and its image
    keys, read without touching the images. Without one (a plain im2rec file) every record is
    an image and its label is the first of its labels; the distinct labels, sorted, become
    ``0 .. num_classes-1`` (this reads every record once when opened).
    """

    def __init__(self, rec_path: str | Path, input_size: tuple[int, int]):
        self.records = IndexedRecordFile(rec_path)
        layout = read_layout(self.records)
        self._keys = layout.image_keys
        if layout.identity_ranges is not None:
            counts = layout.identity_ranges[:, 1] - layout.identity_ranges[:, 0]
            labels = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
            names = tuple(str(i) for i in range(len(counts)))
            self._own_labels = True
            kind = "recordio (insightface header record)"
        else:
            stated = np.array([self._stated(i) for i in range(len(self._keys))], dtype=np.int64)
            unique, labels = np.unique(stated, return_inverse=True)
            names = tuple(str(v) for v in unique)
            self._own_labels = False
            kind = "recordio (no header record: labels from each record)"
        super().__init__(labels, names, f"{kind} {self.records.rec_path}", input_size)

    def describe(self, index: int) -> str:
        return self.records.where(self._keys[index])

    def decode(self, index: int) -> np.ndarray:
        record = self.records.read_image_record(self._keys[index])
        return decode_image(record.image, self.describe(index))

    def stored_label(self, index: int) -> int | None:
        return self._stated(index) if self._own_labels else None

    def _stated(self, index: int) -> int:
        """The label written in the record (the first of a label list, as insightface reads it)."""
        value = self.records.read_image_record(self._keys[index]).labels[0]
        if not (np.isfinite(value) and value == int(value) and value >= 0):
            raise FverifyError(f"record label {value} is not a class number (a whole number >= 0)",
                               where=self.describe(index), fix="the file is corrupt: re-download it")
        return int(value)


class SynthSet(TrainingSet):
    """Synthetic identities of :mod:`fverify.data.synth`, rendered in memory when created.

    Identity ``i`` is ``make_identities(n, seed)[i]`` and its images are
    ``render_images(identity, images_per_identity, seed=seed)``: the same pixels on every
    machine for the same seed. :func:`synth_heldout_images` renders further images of the same
    people. `fverify synth lfw --seed S` draws its people from the same seeds, so validate on a
    synthetic LFW of another seed (other people), or on held-out images.
    """

    def __init__(self, num_identities: int, images_per_identity: int, seed: int,
                 input_size: tuple[int, int]):
        _check_synth(num_identities, images_per_identity, input_size)
        self.seed = seed
        self.images_per_identity = images_per_identity
        self.images, labels = render_dataset(make_identities(num_identities, seed),
                                             images_per_identity, seed=seed)
        super().__init__(labels, tuple(f"synth-{i}" for i in range(num_identities)),
                         f"synth (seed {seed})", input_size)

    def describe(self, index: int) -> str:
        person, image = divmod(int(index), self.images_per_identity)
        return f"synth(seed {self.seed})[identity {person}, image {image}]"

    def decode(self, index: int) -> np.ndarray:
        return self.images[index]


def synth_heldout_images(images_per_identity: int, *, synth_identities: int = 200,
                         synth_images_per_identity: int = 20,
                         synth_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: ``images_per_identity`` further images of each person of the
    synthetic training set opened with the same ``synth_*`` settings, none of them among its
    training images (they are images ``synth_images_per_identity ..`` of each person).
    ``images`` is ``(n, 112, 112, 3)`` uint8 RGB, ``labels`` the training labels."""
    _check_synth(synth_identities, images_per_identity, (SYNTH_SIZE, SYNTH_SIZE))
    images, labels = render_dataset(make_identities(synth_identities, synth_seed), images_per_identity,
                                    seed=synth_seed, start=synth_images_per_identity)
    return images, labels.astype(np.int64)


def _check_synth(num_identities: int, images_per_identity: int, input_size: tuple[int, int]) -> None:
    if num_identities < 2 or images_per_identity < 1:
        raise FverifyError(f"synthetic training set of {num_identities} identities x "
                           f"{images_per_identity} images", fix="use >= 2 identities and >= 1 image each")
    if tuple(input_size) != (SYNTH_SIZE, SYNTH_SIZE):
        raise FverifyError(f"synthetic faces are {SYNTH_SIZE}x{SYNTH_SIZE}, input size "
                           f"{input_size[0]}x{input_size[1]} was asked",
                           fix=f"train synthetic data at input size {SYNTH_SIZE}x{SYNTH_SIZE}")


def _open_folder(path: str | None, *, input_size: tuple[int, int], **_: int) -> TrainingSet:
    return ImageFolderSet(_need_path("folder", path), input_size)


def _open_recordio(path: str | None, *, input_size: tuple[int, int], **_: int) -> TrainingSet:
    return RecordIOSet(_need_path("recordio", path), input_size)


def _open_synth(path: str | None, *, input_size: tuple[int, int], synth_identities: int,
                synth_images_per_identity: int, synth_seed: int) -> TrainingSet:
    if path is not None:
        raise FverifyError(f"synthetic training data is generated, not read: path {path!r} was given",
                           fix="drop the path, or choose kind 'folder' or 'recordio' to read it")
    return SynthSet(synth_identities, synth_images_per_identity, synth_seed, input_size)


def _need_path(kind: str, path: str | None) -> str:
    if not path:
        what = "train.rec (train.idx beside it)" if kind == "recordio" else "the image folder"
        raise FverifyError(f"training data kind {kind!r} needs a path", fix=f"give the path of {what}")
    return path


# name -> constructor(path, *, input_size, synth_identities, synth_images_per_identity, synth_seed)
TRAINING_SET_KINDS: dict[str, Callable[..., TrainingSet]] = {
    "folder": _open_folder,
    "recordio": _open_recordio,
    "synth": _open_synth,
}


def open_training_set(kind: str, path: str | None, *, input_size: tuple[int, int] = (112, 112),
                      synth_identities: int = 200, synth_images_per_identity: int = 20,
                      synth_seed: int = 0) -> TrainingSet:
    """Open training data of ``kind`` (a key of :data:`TRAINING_SET_KINDS`) at ``path``:
    ``folder`` (one sub-folder per identity), ``recordio`` (``train.rec``, ``train.idx`` beside
    it) or ``synth`` (no path). ``input_size`` is ``(H, W)``; every image must be that size."""
    if kind not in TRAINING_SET_KINDS:
        raise FverifyError(f"unknown training data kind {kind!r}",
                           fix=f"choose one of: {', '.join(TRAINING_SET_KINDS)}")
    size = tuple(input_size)
    if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
        raise FverifyError(f"input size {input_size!r} is not (height, width) in pixels",
                           fix="give two positive integers, e.g. (112, 112)")
    return TRAINING_SET_KINDS[kind](path, input_size=size, synth_identities=synth_identities,
                                    synth_images_per_identity=synth_images_per_identity,
                                    synth_seed=synth_seed)


# How many examples a message or summary names before it gives only the count.
_EXAMPLES = 5


@dataclass
class TrainingSetReport:
    """What :func:`validate_training_set` found. Counts are of stored samples; ``unreadable``
    and ``ignored`` hold ``(where, why)`` pairs."""

    source: str
    num_identities: int
    num_images: int
    decoded: bool                      # whether images were decoded (else only counted)
    num_decoded: int = 0               # how many were decoded (all, or a sample)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    single_image_identities: list[str] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the log before training."""
        lines = [self.source,
                 f"  {self.num_identities} identities, {self.num_images} images, "
                 f"{len(self.single_image_identities)} identities with one image"
                 + _examples(self.single_image_identities)]
        if not self.decoded:
            lines.append("  images not decoded in validation (decode=False): a bad image shows "
                         "up as a decode failure during training")
        elif self.num_decoded < self.num_images:
            lines.append(f"  decoded a sample of {self.num_decoded} images; the others "
                         "are checked as they are trained on")
        for title, items in (("unreadable (label -1 in training)", self.unreadable),
                             ("ignored", self.ignored)):
            if items:
                lines.append(f"  {title}: {len(items)}")
                lines += [f"    {where}: {why}" for where, why in items[:_EXAMPLES]]
                if len(items) > _EXAMPLES:
                    lines.append(f"    ... and {len(items) - _EXAMPLES} more")
        return "\n".join(lines)


def validate_training_set(dataset: TrainingSet, *, decode: bool = True, workers: int = 0,
                          progress: bool = False, sample: np.ndarray | None = None) -> TrainingSetReport:
    """Check ``dataset`` before training: with ``decode`` (default) every image (or only the
    indices in ``sample``) is decoded, in ``workers`` processes, and must be ``input_size``;
    where the format stores a label per sample twice, both must agree. Unreadable images are
    listed (they train as label -1); wrongly sized images, disagreeing labels, or fewer than
    two identities with readable images are an FverifyError."""
    chosen = np.arange(len(dataset)) if sample is None else np.asarray(sample)
    report = TrainingSetReport(dataset.source, dataset.num_classes, len(dataset), decode,
                               num_decoded=len(chosen) if decode else 0,
                               ignored=list(dataset.ignored))
    counts = np.bincount(dataset.labels, minlength=dataset.num_classes)
    report.single_image_identities = [dataset.identity_names[i] for i in np.flatnonzero(counts == 1)]
    readable = np.ones(len(dataset), dtype=bool)
    if decode:
        wrong_size, wrong_label = [], []
        found = {"unreadable": report.unreadable, "size": wrong_size, "label": wrong_label}
        loader = torch.utils.data.DataLoader(_Inspection(dataset), batch_size=256, num_workers=workers,
                                             collate_fn=list, sampler=chosen.tolist())
        if progress:
            from tqdm import tqdm
            loader = tqdm(loader, desc="validating training images", unit="batch")
        for index, problem, where, why in (row for batch in loader for row in batch):
            if problem:
                readable[index] = False
                found[problem].append((where, why))
        for items, fix in ((wrong_size, "align the faces to the input size first (`fverify align`)"),
                           (wrong_label, "the file contradicts itself: re-download or re-pack it")):
            if items:
                raise FverifyError(f"{len(items)} images cannot be trained on: "
                                   + "; ".join(f"{w}: {y}" for w, y in items[:_EXAMPLES]), fix=fix)
    usable = np.unique(dataset.labels[readable])
    if len(usable) < 2:
        raise FverifyError(
            f"nothing to train on: {len(usable)} identities with readable images among "
            f"{len(dataset)} images ({len(report.unreadable)} unreadable)"
            + _examples([f"{w}: {y}" for w, y in report.unreadable]), where=dataset.source,
            fix="a classifier needs at least two identities with images; check the path and layout")
    return report


class _Inspection(torch.utils.data.Dataset):
    """Index -> ``(index, problem, where, why)``; problem is '', 'unreadable', 'size' or 'label'."""

    def __init__(self, dataset: TrainingSet):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[int, str, str, str]:
        dataset = self.dataset
        try:
            image = dataset.decode(index)
            stated = dataset.stored_label(index)
        except FverifyError as error:
            return index, "unreadable", error.where or dataset.describe(index), error.what
        if image.shape[:2] != dataset.input_size:
            return (index, "size", dataset.describe(index),
                    f"{image.shape[0]}x{image.shape[1]}, not {dataset.input_size[0]}x{dataset.input_size[1]}")
        if stated is not None and stated != dataset.labels[index]:
            return (index, "label", dataset.describe(index),
                    f"record states label {stated}, the header record's identity ranges say "
                    f"{int(dataset.labels[index])}")
        return index, "", "", ""


def _examples(items: list[str]) -> str:
    if not items:
        return ""
    more = f", ... ({len(items)} in all)" if len(items) > _EXAMPLES else ""
    return f" (e.g. {', '.join(items[:_EXAMPLES])}{more})"
