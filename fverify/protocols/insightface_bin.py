"""insightface ``.bin`` verification sets (lfw.bin, cfp_fp.bin, agedb_30.bin, ...): read safely,
check, and write.

A ``.bin`` is a pickle of ``(images, issame)``: a list of JPEG/PNG bytes of aligned faces and
a list (or numpy bool array) of same-identity flags; pair ``i`` is images ``2i`` and ``2i+1``.
Folds are 10 equal consecutive blocks of pairs, as insightface's evaluator (an unshuffled
10-fold split) makes them. Pickle can run code and allocate at will, so the file is read by
:mod:`fverify.protocols.bin_pickle`: nothing from the file runs, and memory stays a small
multiple of the file's size. No mxnet is needed.
"""
from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fverify.atomic import atomic_open
from fverify.data.images import ImageBytes, encode_image
from fverify.errors import FverifyError
from fverify.protocols.bin_pickle import PickledArray, load_pickle
from fverify.protocols.evalset import EvalSet
from fverify.protocols.folds import check_stratifiable
from fverify.protocols.official import md5_of
from fverify.protocols.protocol import Protocol

NUM_FOLDS = 10
FOLD_RULE = f"{NUM_FOLDS} consecutive blocks (insightface .bin, as an unshuffled {NUM_FOLDS}-fold split)"
PICKLE_PROTOCOL = 4  # readable by every Python 3 insightface has run on
_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


def read_bin(path: str | Path) -> tuple[list[bytes], np.ndarray]:
    """``(images, issame)`` of a ``.bin``, read by :func:`fverify.protocols.bin_pickle.load_pickle`
    and checked: ``images`` a list of JPEG/PNG bytes, ``issame`` a bool array,
    ``len(images) == 2 * len(issame)``."""
    path = Path(path)
    return _check_structure(load_pickle(path), path)


def load_bin(path: str | Path) -> EvalSet:
    """A ``.bin`` ready to run: items are image positions ``"0" .. "2n-1"``, pair ``i`` is
    ``(2i, 2i+1)``, folds are :func:`consecutive_folds`."""
    path = Path(path)
    images, issame = read_bin(path)
    num_pairs = len(issame)
    protocol = Protocol(path.name, tuple(map(str, range(len(images)))),
                        np.arange(2 * num_pairs, dtype=np.int64).reshape(num_pairs, 2), issame,
                        consecutive_folds(num_pairs), source=str(path), source_md5=md5_of(path),
                        fold_rule=FOLD_RULE,
                        fold_fix="each of a .bin's 10 consecutive blocks must hold same and "
                        "different pairs: repack the set (e.g. with `fverify bin pack`)")
    return EvalSet(protocol, ImageBytes(images, path.name), None, str(path))


def consecutive_folds(num_pairs: int, num_folds: int = NUM_FOLDS) -> np.ndarray:
    """Fold id per pair for ``num_folds`` consecutive blocks; when ``num_pairs`` is not a
    multiple, the first ``num_pairs % num_folds`` blocks hold one more pair (as an unshuffled
    sklearn KFold, which insightface uses)."""
    sizes = np.full(num_folds, num_pairs // num_folds)
    sizes[: num_pairs % num_folds] += 1
    return np.repeat(np.arange(num_folds), sizes)


def block_order(labels: np.ndarray, num_blocks: int = NUM_FOLDS) -> tuple[np.ndarray, np.ndarray]:
    """``(order, same_per_block)``: an order of the pairs that puts both classes in each of the
    ``num_blocks`` consecutive blocks of :func:`consecutive_folds`, and how many same pairs
    each block then holds.

    Block ``b`` of ``s_b`` pairs gets ``q_b`` same pairs: its proportional share
    ``s_b * P / n`` (P same pairs of n), rounded down, kept within ``[1, s_b - 1]``, then
    raised (lowered) one at a time where the share exceeds (falls short of) ``q_b`` the most
    until the ``q_b`` sum to P. Same pairs fill the blocks in file order, different pairs
    likewise, and a block lists its pairs in file order. Needs at least ``num_blocks`` pairs
    of each class (:func:`fverify.protocols.folds.check_stratifiable`), which makes every
    block at least 2 pairs long.
    """
    labels = np.asarray(labels, dtype=bool)
    sizes = np.bincount(consecutive_folds(len(labels), num_blocks), minlength=num_blocks)
    same = _same_per_block(sizes, int(labels.sum()))
    block = np.empty(len(labels), dtype=np.int64)
    block[labels] = np.repeat(np.arange(num_blocks), same)
    block[~labels] = np.repeat(np.arange(num_blocks), sizes - same)
    return np.argsort(block, kind="stable"), same


def _same_per_block(sizes: np.ndarray, positives: int) -> np.ndarray:
    share = sizes * positives / sizes.sum()
    quota = np.clip(np.floor(share).astype(np.int64), 1, sizes - 1)
    while (gap := positives - int(quota.sum())) != 0:
        step = 1 if gap > 0 else -1
        room = quota < sizes - 1 if step > 0 else quota > 1
        shortfall = np.where(room, (share - quota) * step, -np.inf)
        quota[np.argmax(shortfall)] += step
    return quota


def write_bin(evalset: EvalSet, out: str | Path) -> list[str]:
    """Write an image protocol as an insightface ``.bin`` (atomically); returns warnings.

    Two images per pair, as the files' own bytes when they are JPEG or PNG, re-encoded as PNG
    otherwise. A ``.bin`` cannot store folds: its readers cut 10 consecutive blocks
    (:func:`consecutive_folds`). When the protocol's folds, in fold order, are exactly those
    blocks (LFW View 2) they are kept; otherwise pairs are ordered by :func:`block_order` so
    that every block holds both classes, and a warning says the original folds are not
    preserved.
    """
    protocol = evalset.protocol
    if protocol.item_kind != "image" or evalset.image_item is not None:
        raise FverifyError(f"{protocol.name} is a video protocol; a .bin holds image pairs",
                           fix="pack an image protocol (`fverify bin pack --help` lists them)")
    blocks = consecutive_folds(protocol.num_pairs)
    order = np.argsort(protocol.folds, kind="stable")
    warnings = []
    if not np.array_equal(protocol.folds[order], blocks):
        check_stratifiable(protocol.labels, where=f"{out} (as {NUM_FOLDS} consecutive blocks)",
                           fix=f"a .bin's readers take {NUM_FOLDS} consecutive blocks as folds, "
                           "each needing same and different pairs: pack more pairs",
                           num_folds=NUM_FOLDS)
        order, same = block_order(protocol.labels)
        sizes = np.bincount(blocks)
        warnings.append(
            f"{protocol.name}'s folds ({protocol.num_folds} folds of sizes "
            f"{np.bincount(protocol.folds).tolist()}) are not the {NUM_FOLDS} consecutive blocks "
            f"a .bin's readers take as folds, so they are not kept: pairs were reordered into "
            f"blocks of {sizes.tolist()} pairs holding {same.tolist()} same pairs (the rest "
            "different), same and different pairs each in file order")
    blobs = [_image_bytes(evalset.images, int(item)) for item in protocol.pairs[order].ravel()]
    issame = [bool(label) for label in protocol.labels[order]]
    with atomic_open(out, "wb") as handle:
        pickle.dump((blobs, issame), handle, protocol=PICKLE_PROTOCOL)
    return warnings


def _check_structure(content, path: Path) -> tuple[list[bytes], np.ndarray]:
    fix = "a .bin must be a pickle of (list of JPEG/PNG bytes, list of bools)"
    if not isinstance(content, (tuple, list)) or len(content) != 2:
        raise FverifyError(f"expected a pair (images, issame), found {_kind(content)}",
                           where=str(path), fix=fix)
    images, issame = content
    if not isinstance(images, (list, tuple)) or not all(isinstance(b, bytes) for b in images):
        raise FverifyError(f"images must be a list of bytes, found {_kind(images)}",
                           where=str(path), fix=fix)
    if isinstance(issame, PickledArray):
        issame = issame.array  # None when the pickle never gave the array its data
    if isinstance(issame, np.ndarray):
        if issame.ndim != 1 or not (issame.dtype == np.bool_ or np.isin(issame, (0, 1)).all()):
            raise FverifyError(f"issame is a numpy array of {issame.dtype} with shape "
                               f"{issame.shape}; only a 1-D array of bools (or of 0 and 1) is "
                               "accepted", where=str(path), fix=fix)
        labels = issame.astype(bool)
    elif isinstance(issame, (list, tuple)) and all(_is_flag(v) for v in issame):
        labels = np.array([bool(v) for v in issame], dtype=bool)
    else:
        raise FverifyError(f"issame must be a list of bools, found {_kind(issame)}",
                           where=str(path), fix=fix)
    if not len(labels) or len(images) != 2 * len(labels):
        raise FverifyError(f"{len(images)} images for {len(labels)} pairs; a .bin holds two "
                           "images per pair", where=str(path), fix=fix)
    bad = [i for i, blob in enumerate(images) if not blob.startswith((_JPEG, _PNG))]
    if bad:
        raise FverifyError(f"{len(bad)} of {len(images)} images are not JPEG or PNG bytes "
                           f"(e.g. images {bad[:10]})", where=str(path), fix=fix)
    return list(images), labels


def _is_flag(value) -> bool:
    return isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer))
                                                   and value in (0, 1))


def _kind(value) -> str:
    if isinstance(value, (list, tuple)):
        inner = sorted({type(v).__name__ for v in value[:1000]})
        return f"a {type(value).__name__} of {len(value)} ({', '.join(inner) or 'empty'})"
    return f"a {type(value).__name__}"


def _image_bytes(images: Sequence, index: int) -> bytes:
    blob = images.read_bytes(index)
    return blob if blob.startswith((_JPEG, _PNG)) else encode_image(images[index], "png")
