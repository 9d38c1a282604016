"""The five file parsers under fuzz, each read the way its command reads it, with the valid
files its mutants start from."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from fverify.data.images import encode_image
from fverify.data.synth import write_lfw, write_ytf
from fverify.protocols.insightface_bin import load_bin
from fverify.protocols.lfw import load_lfw
from fverify.protocols.pairs_csv import load_pairs
from fverify.protocols.ytf import load_ytf
from fverify.scores import read_scores, write_scores
from tests.fuzz.harness import Target


def _lfw_files(workdir: Path) -> list[bytes]:
    write_lfw(workdir / "lfw", num_folds=3, pairs_per_fold=4, people_per_fold=4, max_images=3, seed=7)
    return [(workdir / "lfw" / "pairs.txt").read_bytes()]


def _ytf_files(workdir: Path) -> list[bytes]:
    write_ytf(workdir / "ytf", num_splits=2, pairs_per_split=3, people_per_split=4, max_frames=5, seed=7)
    return [(workdir / "ytf" / "splits.txt").read_bytes()]


def _bin_files(workdir: Path) -> list[bytes]:
    """20 pairs as insightface and fverify write them (protocols 2, 4, 5; labels a list or a
    numpy array) and as Python 2 did; images are short JPEG/PNG-headed bytes, so that most of
    each file is pickle structure, plus one file of real tiny images."""
    stubs = [b"\xff\xd8\xff\xe0" + bytes([i]) * 4 for i in range(20)] * 2
    labels = [True, False] * 10
    real = [encode_image(np.full((4, 4, 3), 40 * (i % 5), dtype=np.uint8), ("jpg", "png")[i % 2])
            for i in range(40)]
    files = [pickle.dumps((stubs, labels), protocol=p) for p in (2, 4)]
    files += [pickle.dumps((stubs, np.array(labels)), protocol=p) for p in (2, 4, 5)]
    files.append(pickle.dumps((stubs, [int(v) for v in labels]), protocol=0))
    files.append(_python2_pickle(stubs, labels))
    files.append(pickle.dumps((real, labels), protocol=4))
    return files


def _python2_pickle(images: list[bytes], labels: list[bool]) -> bytes:
    """Python 2's protocol 2: images as BINSTRING (Python 3 reads them as text by default)."""
    out = [b"\x80\x02(]("]
    out += [b"T" + len(blob).to_bytes(4, "little") + blob for blob in images]
    out.append(b"e](" + b"".join(b"\x88" if v else b"\x89" for v in labels) + b"et.")
    return b"".join(out)


def _pairs_csv_files(workdir: Path) -> list[bytes]:
    data = workdir / "pairs_data"
    (data / "a").mkdir(parents=True, exist_ok=True)
    names = [f"a/{i}.jpg" for i in range(8)]
    for name in names:
        (data / name).touch()
    rows = [(names[i % 8], names[(i + 3) % 8], i % 2, i % 4 // 2) for i in range(20)]
    with_folds = "path1,path2,label,fold\n" + "".join(f"{a},{b},{s},{f}\n" for a, b, s, f in rows)
    without = "".join(f"{a},{b},{'true' if s else 'false'}\n" for a, b, s, _ in rows)
    return [with_folds.encode(), without.encode()]


def _scores_files(workdir: Path) -> list[bytes]:
    rng = np.random.default_rng(3)
    labels = np.array([True, False] * 10)
    scores = rng.normal(size=20) + labels
    folds = np.arange(20) // 2 % 2
    write_scores(workdir / "written.csv", scores=scores, labels=labels, folds=folds,
                 items1=[f"a/{i}.jpg" for i in range(20)], items2=[f"b/{i}.jpg" for i in range(20)])
    plain = "score,label,fold\n" + "".join(f"{s:.4f},{int(y)},{f + 1}\n" for s, y, f in zip(scores, labels, folds))
    unfolded = "Score, Label\n" + "".join(f"{float(s)!r},{str(bool(y)).lower()}\n" for s, y in zip(scores, labels))
    return [(workdir / "written.csv").read_bytes(), plain.encode(), unfolded.encode()]


TARGETS = (
    Target("lfw_pairs", ".txt", _lfw_files, lambda path, workdir: load_lfw(workdir / "lfw", pairs=[path])),
    Target("ytf_splits", ".txt", _ytf_files, lambda path, workdir: load_ytf(workdir / "ytf", splits=path)),
    Target("insightface_bin", ".bin", _bin_files, lambda path, workdir: load_bin(path)),
    Target("pairs_csv", ".csv", _pairs_csv_files,
           lambda path, workdir: load_pairs(workdir / "pairs_data", path)),
    Target("scores_csv", ".csv", _scores_files, lambda path, workdir: read_scores(path)),
)
