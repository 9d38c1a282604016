"""A seeded renderer of face-like 112x112 RGB images: identities a small CNN can learn to
tell apart, but only through nuisances (pose, lighting, noise, occlusion, blur, expression).

An :class:`Identity` is a latent drawn once (face shape, skin tone, hair, eye/brow/nose/mouth
geometry, ears, moles, beard, glasses); every image of it draws fresh nuisances. Everything is
a pure function of integer seeds, so the same seed gives the same pixels on every machine
(up to OpenCV's JPEG encoder when the images are written to disk).

Coordinates are normalised: the canvas spans [-1, 1] in x (right) and y (down); lengths in
the latent are in these units (1 unit = 56 px). Angles are in radians unless a name says
``_deg``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

SIZE = 112
_PIXEL = 2.0 / SIZE  # one pixel in normalised units, the width of every anti-aliased edge
_GRID_Y, _GRID_X = np.meshgrid(
    (np.arange(SIZE, dtype=np.float32) + 0.5) * _PIXEL - 1.0,
    (np.arange(SIZE, dtype=np.float32) + 0.5) * _PIXEL - 1.0,
    indexing="ij",
)

# Colour anchors (RGB in [0, 1]); identities interpolate between neighbours, so nearby
# identities exist and colour alone does not separate them.
_SKIN = np.array([[0.96, 0.80, 0.70], [0.87, 0.67, 0.52], [0.70, 0.50, 0.36], [0.45, 0.30, 0.21],
                  [0.30, 0.19, 0.13]], dtype=np.float32)
_HAIR = np.array([[0.08, 0.06, 0.05], [0.30, 0.18, 0.10], [0.55, 0.38, 0.20], [0.85, 0.72, 0.45],
                  [0.62, 0.25, 0.10], [0.70, 0.70, 0.70]], dtype=np.float32)
_IRIS = np.array([[0.25, 0.15, 0.08], [0.35, 0.45, 0.20], [0.25, 0.45, 0.70], [0.45, 0.45, 0.50]],
                 dtype=np.float32)


@dataclass(frozen=True, eq=False)
class Identity:
    """The latent of one synthetic person; ``seed`` and ``index`` key all of its images."""

    seed: int
    index: int
    face_w: float          # half-width of the face ellipse
    face_h: float          # half-height
    jaw: float             # 0 round chin .. 1 narrow chin
    skin: np.ndarray       # RGB in [0, 1]
    hair: np.ndarray       # RGB in [0, 1]
    hairline: float        # y of the hairline at the face centre
    hair_tilt: float       # hairline slope (a side parting)
    hair_volume: float     # how far hair stands beyond the face outline
    ear: float             # ear half-height
    eye_y: float
    eye_dx: float          # half the distance between the eye centres
    eye_w: float
    eye_h: float
    eye_tilt: float        # radians; outer corners up when positive
    iris: np.ndarray       # RGB in [0, 1]
    brow_gap: float        # brow height above the eye centre
    brow_thick: float
    brow_tilt: float       # radians
    nose_len: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip: float             # lip thickness
    smile: float           # mouth curvature (up at the corners when positive)
    lip_colour: np.ndarray
    moles: np.ndarray      # (m, 3): x, y, radius in the face frame
    beard: float           # 0 none .. 1 full
    glasses: float         # 0 none, else frame thickness


def make_identities(n: int, seed: int = 0) -> list[Identity]:
    """``n`` identities; identity ``i`` depends only on ``(seed, i)``, so a longer list
    starts with the shorter one."""
    return [sample_identity(seed, i) for i in range(n)]


def sample_identity(seed: int, index: int) -> Identity:
    """Identity ``index`` of ``seed``: every latent drawn uniformly from a range wide enough
    that, among a few hundred people, some look alike (lengths in canvas units, angles in
    radians, colours RGB in [0, 1])."""
    rng = np.random.default_rng([seed, index, 0x1D])
    u = rng.uniform
    face_w = u(0.50, 0.66)
    num_moles = rng.integers(0, 4)
    return Identity(
        seed=seed,
        index=index,
        face_w=face_w,
        face_h=u(0.68, 0.84),
        jaw=u(0.0, 1.0),
        skin=_blend(_SKIN, u()) + rng.normal(0, 0.02, 3).astype(np.float32),
        hair=_blend(_HAIR, u()) + rng.normal(0, 0.03, 3).astype(np.float32),
        hairline=u(-0.62, -0.30),
        hair_tilt=u(-0.35, 0.35),
        hair_volume=u(0.0, 0.16),
        ear=u(0.07, 0.14),
        eye_y=u(-0.20, -0.06),
        eye_dx=u(0.17, 0.27),
        eye_w=u(0.07, 0.11),
        eye_h=u(0.030, 0.055),
        eye_tilt=u(-0.18, 0.18),
        iris=_blend(_IRIS, u()),
        brow_gap=u(0.07, 0.13),
        brow_thick=u(0.014, 0.040),
        brow_tilt=u(-0.30, 0.25),
        nose_len=u(0.14, 0.28),
        nose_w=u(0.05, 0.10),
        mouth_y=u(0.28, 0.42),
        mouth_w=u(0.12, 0.22),
        lip=u(0.018, 0.045),
        smile=u(-0.04, 0.08),
        lip_colour=np.array([u(0.55, 0.85), u(0.25, 0.45), u(0.25, 0.40)], dtype=np.float32),
        moles=np.column_stack([u(-0.4, 0.4, num_moles), u(-0.2, 0.5, num_moles),
                               u(0.012, 0.03, num_moles)]).astype(np.float32),
        beard=u(0.4, 1.0) if u() < 0.3 else 0.0,
        glasses=u(0.012, 0.025) if u() < 0.2 else 0.0,
    )


@dataclass(frozen=True)
class Nuisance:
    """What changes from one image of a person to the next."""

    angle_deg: float       # in-plane rotation, degrees
    scale: float           # zoom factor
    shift: tuple[float, float]  # pixels (x, y)
    yaw: float             # inner features shifted sideways, fraction of the face half-width
    eye_open: float        # 0 closed .. 1 open
    mouth_open: float      # extra smile curvature
    background: tuple[float, float, float]
    light_dir: float       # radians, direction the light comes from
    light: float           # strength of the lighting gradient (fraction of brightness)
    brightness: float
    tint: tuple[float, float, float]  # per-channel gain
    blur: float            # Gaussian sigma, pixels
    noise: float           # std of additive noise, 0..255 scale
    occluders: tuple[tuple[float, float, float, float, float, float, float], ...]
    # each occluder: x0, y0, w, h (pixels), r, g, b (0..1)


def sample_nuisance(rng: np.random.Generator) -> Nuisance:
    """Per-image nuisances: rotation +-12 degrees, scale 0.9-1.1, shift +-5 px, yaw, blink and
    smile changes, background, lighting ramp up to 50 %, brightness 0.7-1.25, colour cast
    +-8 %, blur sigma up to 1.2 px, noise std 2-10 (of 255), and in 30 % of images one or two
    occluding patches of 12-40 px."""
    u = rng.uniform
    occluders = []
    for _ in range(rng.integers(1, 3) if u() < 0.3 else 0):
        w, h = u(12, 40), u(10, 35)
        occluders.append((u(0, SIZE - w), u(0, SIZE - h), w, h, u(), u(), u()))
    return Nuisance(
        angle_deg=u(-12, 12),
        scale=u(0.90, 1.10),
        shift=(u(-5, 5), u(-5, 5)),
        yaw=u(-0.12, 0.12),
        eye_open=1.0 if u() < 0.8 else u(0.2, 1.0),
        mouth_open=u(-0.02, 0.04),
        background=tuple(u(0.1, 0.9, 3)),
        light_dir=u(0, 2 * np.pi),
        light=u(0.0, 0.5),
        brightness=u(0.7, 1.25),
        tint=tuple(u(0.92, 1.08, 3)),
        blur=u(0.0, 1.2),
        noise=u(2.0, 10.0),
        occluders=tuple(occluders),
    )


def render(identity: Identity, rng: np.random.Generator) -> np.ndarray:
    """One ``(112, 112, 3)`` uint8 RGB image of ``identity`` with fresh nuisances from ``rng``."""
    return render_with(identity, sample_nuisance(rng), rng)


def render_images(identity: Identity, count: int, *, seed: int = 0, start: int = 0) -> np.ndarray:
    """Images ``start .. start+count-1`` of ``identity``, ``(count, 112, 112, 3)`` uint8 RGB.

    Image ``j`` depends only on ``(identity, seed, j)``: ``start`` picks a disjoint range, e.g.
    held-out images of training identities.
    """
    out = np.empty((count, SIZE, SIZE, 3), dtype=np.uint8)
    for k in range(count):
        rng = np.random.default_rng([identity.seed, identity.index, seed, start + k, 0x1A])
        out[k] = render(identity, rng)
    return out


def render_dataset(identities: list[Identity], images_per_identity: int, *, seed: int = 0,
                   start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: ``images_per_identity`` images of each identity in order, uint8
    ``(n, 112, 112, 3)``, and the 0-based position of its identity in ``identities``."""
    images = np.concatenate(
        [render_images(person, images_per_identity, seed=seed, start=start) for person in identities]
    ) if identities else np.empty((0, SIZE, SIZE, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(len(identities)), images_per_identity)
    return images, labels


def render_video(identity: Identity, num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """``(num_frames, 112, 112, 3)`` uint8 frames of one clip: the scene (background, light,
    occluders) stays, pose and expression drift smoothly from a start to an end state."""
    begin, end = sample_nuisance(rng), sample_nuisance(rng)
    frames = np.empty((num_frames, SIZE, SIZE, 3), dtype=np.uint8)
    for f in range(num_frames):
        t = f / max(num_frames - 1, 1)
        blink = f % 7 == 6  # an occasional blink
        frames[f] = render_with(identity, _drift(begin, end, t, blink), rng)
    return frames


def _drift(begin: Nuisance, end: Nuisance, t: float, blink: bool) -> Nuisance:
    """The scene of ``begin`` with pose and expression a fraction ``t`` of the way to ``end``."""
    def mix(a: float, b: float) -> float:
        return (1 - t) * a + t * b
    return replace(
        begin,
        angle_deg=mix(begin.angle_deg, end.angle_deg),
        scale=mix(begin.scale, end.scale),
        shift=(mix(begin.shift[0], end.shift[0]), mix(begin.shift[1], end.shift[1])),
        yaw=mix(begin.yaw, end.yaw),
        eye_open=min(begin.eye_open, 0.3) if blink else begin.eye_open,
        mouth_open=mix(begin.mouth_open, end.mouth_open),
    )


def render_with(identity: Identity, nuisance: Nuisance, rng: np.random.Generator) -> np.ndarray:
    """Render ``identity`` under ``nuisance``; ``rng`` draws only the pixel noise."""
    p, n = identity, nuisance
    x, y = _GRID_X, _GRID_Y
    image = np.empty((SIZE, SIZE, 3), dtype=np.float32)
    image[:] = np.asarray(n.background, dtype=np.float32)
    image *= (1.0 + 0.25 * y)[..., None]  # background darker at the top, like a studio wall

    cy = 0.05
    window, hair_back = _ellipse(0, cy - 0.04, p.face_w + p.hair_volume, p.face_h + p.hair_volume)
    hair_back *= _GRID_Y[window] < cy + 0.1 * p.face_h
    _paint(image, (window, hair_back), p.hair)

    ear_x = p.face_w * 0.97
    for side in (-1, 1):
        _paint(image, _ellipse(side * ear_x, cy + p.eye_y + 0.05, 0.05, p.ear), p.skin * 0.92)

    # Face outline: an ellipse whose lower half narrows with the jaw parameter.
    below = np.clip((y - cy) / p.face_h, 0, 1)
    half_w = p.face_w * (1 - 0.35 * p.jaw * below**2)
    face = _soft(1 - np.hypot(x / half_w, (y - cy) / p.face_h), min(p.face_w, p.face_h))
    _paint(image, (_FULL, face), p.skin)
    _paint(image, (_FULL, face * _soft(p.hairline + p.hair_tilt * x - (y - cy), 1.0)), p.hair)
    if p.beard:
        beard = face * _soft((y - cy) - (p.mouth_y - 0.06), 1.0) * (p.beard * 0.85)
        _paint(image, (_FULL, beard), p.hair * 0.8)

    # Inner features move sideways with yaw; the face outline does not.
    fx = n.yaw * p.face_w
    eye_h = max(p.eye_h * n.eye_open, 0.004)
    for side in (-1, 1):
        ex, ey, tilt = fx + side * p.eye_dx, cy + p.eye_y, -side * p.eye_tilt
        window, sclera = _ellipse(ex, ey, p.eye_w, eye_h, tilt)
        _paint(image, (window, sclera), _WHITE)
        gaze = ex + 0.25 * fx
        _paint(image, (window, sclera * _ellipse(gaze, ey, p.eye_h * 0.9, p.eye_h * 0.9, window=window)[1]),
               p.iris)
        _paint(image, (window, sclera * _ellipse(gaze, ey, p.eye_h * 0.4, p.eye_h * 0.4, window=window)[1]),
               _BLACK)
        _paint(image, _ellipse(ex, ey - p.brow_gap, p.eye_w * 1.2, p.brow_thick, -side * p.brow_tilt),
               p.hair * 0.7)
        if p.glasses:
            window, outer = _ellipse(ex, ey, p.eye_w * 1.6, p.eye_h * 2.6 + p.glasses)
            inner = _ellipse(ex, ey, p.eye_w * 1.6 - p.glasses, p.eye_h * 2.6, window=window)[1]
            _paint(image, (window, np.clip(outer - inner, 0, 1)), _BLACK + 0.1)

    nose_top = cy + p.eye_y + 0.05
    nose_bottom = nose_top + p.nose_len
    nose_x = fx * 1.3
    _paint(image, _ellipse(nose_x + 0.35 * p.nose_w, (nose_top + nose_bottom) / 2, 0.015, p.nose_len / 2),
           p.skin * 0.6, opacity=0.5)
    for side in (-1, 1):
        _paint(image, _ellipse(nose_x + side * p.nose_w * 0.6, nose_bottom, p.nose_w * 0.35, 0.014),
               p.skin * 0.4, opacity=0.8)

    # Lips: a band around the parabola y = mouth_y - smile * (x / w)^2 (corners up for a smile).
    mouth_x, smile = fx * 1.2, p.smile + n.mouth_open
    window = _window(mouth_x, cy + p.mouth_y, p.mouth_w, abs(smile) + p.lip)
    along = (_GRID_X[window] - mouth_x) / p.mouth_w
    offset = _GRID_Y[window] - (cy + p.mouth_y - smile * along**2)
    lips = _soft(1 - np.abs(offset) / p.lip, p.lip) * _soft(1 - np.abs(along), p.mouth_w)
    _paint(image, (window, lips), p.lip_colour)
    _paint(image, (window, lips * _soft(1 - np.abs(offset) / 0.006, 0.006)), p.lip_colour * 0.4)

    for mx, my, mr in p.moles:
        _paint(image, _ellipse(fx + mx * p.face_w, cy + my * p.face_h, mr, mr), p.skin * 0.45)

    # Lighting: a linear ramp across the image, overall brightness, a colour cast.
    ramp = np.cos(n.light_dir) * x + np.sin(n.light_dir) * y
    image *= (n.brightness * (1 + 0.5 * n.light * ramp))[..., None]
    image *= np.asarray(n.tint, dtype=np.float32) * 255

    warp = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), n.angle_deg, n.scale)
    warp[:, 2] += n.shift
    image = cv2.warpAffine(image, warp, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT)
    for x0, y0, w, h, r, g, b in n.occluders:
        image[int(y0):int(y0 + h), int(x0):int(x0 + w)] = (255 * r, 255 * g, 255 * b)
    if n.blur > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), n.blur)
    image += rng.normal(0, n.noise, image.shape).astype(np.float32)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


_WHITE = np.array([0.95, 0.95, 0.93], dtype=np.float32)
_BLACK = np.array([0.05, 0.05, 0.05], dtype=np.float32)


def _blend(anchors: np.ndarray, t: float) -> np.ndarray:
    """Colour at position ``t`` in [0, 1] along a piecewise-linear palette."""
    position = t * (len(anchors) - 1)
    low = min(int(position), len(anchors) - 2)
    w = position - low
    return ((1 - w) * anchors[low] + w * anchors[low + 1]).astype(np.float32)


def _soft(signed: np.ndarray, scale: float) -> np.ndarray:
    """Coverage in [0, 1] from a signed inside-measure in units of ``scale``: 1 px anti-aliasing."""
    return np.clip(0.5 + signed * (scale / _PIXEL), 0.0, 1.0)


Window = tuple[slice, slice]
_FULL: Window = (slice(None), slice(None))


def _window(cx: float, cy: float, rx: float, ry: float) -> Window:
    """Pixel rows and columns covering the box ``cx +- rx``, ``cy +- ry`` plus a 2 px margin:
    small features are drawn there only, not over the whole canvas."""
    def span(c: float, r: float) -> slice:
        low = int(np.floor((c - r + 1) / _PIXEL)) - 2
        high = int(np.ceil((c + r + 1) / _PIXEL)) + 2
        return slice(min(max(low, 0), SIZE), min(max(high, 0), SIZE))
    return span(cy, ry), span(cx, rx)


def _ellipse(cx: float, cy: float, a: float, b: float, angle: float = 0.0,
             window: Window | None = None) -> tuple[Window, np.ndarray]:
    """Coverage of an ellipse with half-axes ``a``, ``b`` rotated by ``angle`` radians, on
    ``window`` (default: the ellipse's own bounding box)."""
    if window is None:
        window = _window(cx, cy, max(a, b), max(a, b))
    dx, dy = _GRID_X[window] - cx, _GRID_Y[window] - cy
    if angle:
        c, s = np.cos(angle), np.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    return window, _soft(1 - np.sqrt((dx / a) ** 2 + (dy / b) ** 2), min(a, b))


def _paint(image: np.ndarray, shape: tuple[Window, np.ndarray], colour: np.ndarray,
           opacity: float = 1.0) -> None:
    """Alpha-composite a flat ``colour`` over ``image`` in place, where ``shape`` covers it."""
    window, alpha = shape
    region = image[window]
    region += (opacity * alpha)[..., None] * (np.asarray(colour, dtype=np.float32) - region)
