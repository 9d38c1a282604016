"""A synthetic YouTube Faces: the ``aligned_images_DB`` frame tree and ``splits.txt``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fverify.atomic import atomic_directory
from fverify.data.images import encode_image
from fverify.data.synth.faces import render_video, sample_identity
from fverify.data.synth.names import person_names
from fverify.errors import FverifyError

SPLITS_HEADER = "split number, pair id, first name, second name, is same"
_MAX_VIDEO_NUMBER = 6  # real YTF numbers a person's videos 0..5, with gaps


def write_ytf(out: str | Path, *, num_splits: int = 10, pairs_per_split: int = 10,
              people_per_split: int = 8, max_videos: int = 4, min_frames: int = 4,
              max_frames: int = 8, seed: int = 0) -> dict[str, int]:
    """Write ``out/aligned_images_DB/<Name>/<vid>/aligned_detect_<vid>.<frame>.jpg`` and
    ``out/splits.txt``.

    splits.txt has one header line, then per split ``pairs_per_split`` same-person rows
    followed by as many different-person rows, ``split, pair, Name/vid, Name/vid, is_same``
    (split and pair ids 1-based, pair ids restarting per split), as the real file. Splits
    share no person. Each person has 2..``max_videos`` videos numbered from 0..5 with gaps;
    each video ``min_frames..max_frames`` consecutive frames from a random first frame number
    (so numbers cross digit boundaries, e.g. 9 -> 10). Returns counts (people, videos, frames,
    pairs).
    """
    if min(num_splits, pairs_per_split, min_frames) < 1 or people_per_split < 2 \
            or not 2 <= max_videos <= _MAX_VIDEO_NUMBER or max_frames < min_frames:
        raise FverifyError(
            "synthetic YTF needs >= 1 split, pair and frame, >= 2 people per split, "
            f"2..{_MAX_VIDEO_NUMBER} videos per person and max frames >= min frames",
            fix="adjust the sizes")
    rng = np.random.default_rng([seed, 0x7F])
    num_people = num_splits * people_per_split
    names = person_names(num_people, seed)
    videos = [sorted(rng.choice(_MAX_VIDEO_NUMBER, rng.integers(2, max_videos + 1), replace=False))
              for _ in range(num_people)]
    rows = [SPLITS_HEADER]
    for split in range(num_splits):
        people = range(split * people_per_split, (split + 1) * people_per_split)
        same = [(p, a, p, b) for p in people for i, a in enumerate(videos[p]) for b in videos[p][i + 1:]]
        if len(same) < pairs_per_split:
            raise FverifyError(f"a split's people have only {len(same)} same-person video pairs, "
                               f"{pairs_per_split} asked",
                               fix="raise --people-per-split or --max-videos, or lower --pairs-per-split")
        chosen = [same[i] for i in rng.choice(len(same), pairs_per_split, replace=False)]
        different: set[tuple[int, int, int, int]] = set()
        while len(different) < pairs_per_split:
            p, q = rng.choice(people, 2, replace=False)
            different.add((p, int(rng.choice(videos[p])), q, int(rng.choice(videos[q]))))
        for pair, (p, a, q, b) in enumerate(chosen + sorted(different), 1):
            rows.append(f"{split + 1}, {pair}, {names[p]}/{a}, {names[q]}/{b}, {int(p == q)}")

    num_frames = 0
    with atomic_directory(out) as root:
        for person, name in enumerate(names):
            identity = sample_identity(seed, person)
            for video in videos[person]:
                folder = root / "aligned_images_DB" / name / str(video)
                folder.mkdir(parents=True)
                video_rng = np.random.default_rng([seed, person, int(video), 0x7D])
                count = int(video_rng.integers(min_frames, max_frames + 1))
                first = int(video_rng.integers(1, 120))
                for offset, frame in enumerate(render_video(identity, count, video_rng)):
                    (folder / f"aligned_detect_{video}.{first + offset}.jpg").write_bytes(
                        encode_image(frame, "jpg"))
                num_frames += count
        (root / "splits.txt").write_text("\n".join(rows) + "\n", encoding="ascii")
    return {"people": num_people, "videos": sum(map(len, videos)), "frames": num_frames,
            "pairs": 2 * num_splits * pairs_per_split}
