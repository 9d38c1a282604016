"""Synthetic face benchmarks: a seeded face renderer and writers of the real on-disk layouts.

``make_identities(n, seed)`` draws people, ``render_images(identity, count, seed=, start=)``
their images (``(count, 112, 112, 3)`` uint8 RGB), ``render_dataset`` images and labels for
training, ``render_video`` a clip; ``write_lfw`` / ``write_ytf`` write LFW / YTF trees.
"""
from fverify.data.synth.faces import (
    SIZE,
    Identity,
    Nuisance,
    make_identities,
    render,
    render_dataset,
    render_images,
    render_video,
    sample_identity,
    sample_nuisance,
)
from fverify.data.synth.lfw import write_lfw, write_lfw_images
from fverify.data.synth.names import person_names
from fverify.data.synth.ytf import write_ytf

__all__ = [
    "SIZE", "Identity", "Nuisance", "make_identities", "person_names", "render", "render_dataset",
    "render_images", "render_video", "sample_identity", "sample_nuisance", "write_lfw", "write_lfw_images",
    "write_ytf",
]
