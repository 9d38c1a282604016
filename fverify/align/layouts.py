"""Source tree layouts of ``fverify align`` (torch-free: the CLI parser lists them)."""
from __future__ import annotations

# Folder depth of the images under SRC (None: any), and the face choice that fits the data set.
LAYOUTS: dict[str, tuple[int | None, str]] = {
    "lfw": (2, "nearest-centre"),   # <person>/<person>_NNNN.jpg, centred on the person
    "ytf": (3, "largest"),          # <person>/<video>/<frame>.jpg: every frame of every video
    "folder": (None, "largest"),    # any depth
}
