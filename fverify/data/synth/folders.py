"""Synthetic identities written as a training image folder (the CASIA-WebFace layout that
``data.kind = "folder"`` reads), so a training set rendered once can be trained on many times."""
from __future__ import annotations

from pathlib import Path

from fverify.atomic import atomic_directory
from fverify.data.images import encode_image
from fverify.data.synth.faces import render_images, sample_identity
from fverify.errors import FverifyError


def write_identity_folders(out: str | Path, *, num_identities: int, images_per_identity: int,
                           seed: int = 0) -> dict[str, int]:
    """Write ``out/synth-%05d/%04d.jpg``: synthetic identity ``i`` of ``seed`` in folder ``i``,
    the same pictures as ``data.kind = "synth"`` renders in memory for these settings (JPEG
    encoded). Folder names sort in identity order, so the folder's label ``i`` is identity
    ``i``. Returns the counts written."""
    if num_identities < 2 or images_per_identity < 1:
        raise FverifyError(f"a training set of {num_identities} identities x {images_per_identity} "
                           "images is too small", fix="give at least 2 identities and 1 image each")
    with atomic_directory(out) as root:
        for person in range(num_identities):
            folder = root / f"synth-{person:05d}"
            folder.mkdir()
            images = render_images(sample_identity(seed, person), images_per_identity, seed=seed)
            for number, image in enumerate(images):
                (folder / f"{number:04d}.jpg").write_bytes(encode_image(image, "jpg"))
    return {"identities": num_identities, "images": num_identities * images_per_identity}
