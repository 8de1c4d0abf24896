"""Turn a clean page or sticker into what claimants upload: phone photos and scans.

Each step is a pure function of (image, parameters); ``photo_params`` draws the
parameters for a difficulty level from a seeded generator, so a claim's photo is the
same for the same seed. A photo never crops into ``keep`` (the box of the printed text):
cropped edges cut margins and background, never a value the label says is readable.

>>> rng = np.random.default_rng(0)
>>> page = np.full((400, 300, 3), 255, np.uint8)
>>> photograph(page, photo_params(rng, "easy"), rng, out_width=320).shape[1]
320
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

__all__ = ["PhotoParams", "photo_params", "photograph", "scan", "jpeg_bytes", "png_bytes", "unreadable",
           "LEVELS"]

LEVELS = ("easy", "medium", "hard")


@dataclass(frozen=True)
class PhotoParams:
    level: str
    angle: float
    """Degrees of in-plane rotation."""
    perspective: float
    """Corner jitter as a share of the page size."""
    margin: float
    """Background around the page, share of its size."""
    shade: float
    """Strength of the light gradient (0: even light)."""
    shade_angle: float
    vignette: float
    shadow: float
    """Darkness of a soft shadow band across the page (0: none)."""
    blur: float
    """Gaussian sigma in output pixels."""
    motion: int
    """Motion-blur length in px (0: none)."""
    noise: float
    quality: int
    """JPEG quality of the upload."""
    crop_sides: int
    """How many edges the frame cuts (margins only)."""
    quarter_turns: int
    """Sideways photo: np.rot90 turns (0 almost always)."""
    background: tuple[int, int, int]


def photo_params(rng: np.random.Generator, level: str, *, allow_turn: bool = True) -> PhotoParams:
    """Parameters of one phone photo at a difficulty level ('easy', 'medium', 'hard')."""
    i = LEVELS.index(level)
    u = rng.uniform
    backgrounds = [(128, 96, 70), (180, 180, 176), (60, 62, 66), (200, 190, 170), (95, 110, 125)]
    return PhotoParams(
        level=level,
        angle=float(u(-1, 1) * (2.5, 5.0, 9.0)[i]),
        perspective=float(u(0.005, (0.02, 0.04, 0.07)[i])),
        margin=float(u(0.04, 0.16)),
        shade=float(u(0.0, (0.10, 0.22, 0.38)[i])),
        shade_angle=float(u(0, 2 * np.pi)),
        vignette=float(u(0.0, (0.08, 0.15, 0.25)[i])),
        shadow=float(u(0.15, 0.35)) if u() < (0.0, 0.2, 0.45)[i] else 0.0,
        blur=float(u(0.0, (0.5, 0.8, 1.1)[i])),
        motion=int(rng.integers(4, 8)) if u() < (0.0, 0.1, 0.2)[i] else 0,
        noise=float(u(1.5, (3.0, 5.0, 8.0)[i])),
        quality=int(rng.integers((72, 64, 55)[i], (84, 76, 68)[i])),
        crop_sides=int(rng.integers(0, 3)) if u() < 0.4 else 0,
        quarter_turns=int(rng.choice([1, 3])) if allow_turn and u() < (0.0, 0.04, 0.08)[i] else 0,
        background=backgrounds[int(rng.integers(0, len(backgrounds)))],
    )


def _texture(shape: tuple[int, int], base: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    low = cv2.resize(rng.normal(0, 1, (max(2, h // 64), max(2, w // 64))).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    streaks = cv2.resize(rng.normal(0, 1, (max(2, h // 3), 4)).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_LINEAR)
    field = 10 * low + 5 * streaks
    out = np.asarray(base, np.float32)[None, None, :] + field[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _light(h: int, w: int, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xs, ys = xx / w - 0.5, yy / h - 0.5
    direction = np.cos(p.shade_angle) * xs + np.sin(p.shade_angle) * ys
    light = 1.0 - p.shade * (direction + 0.5)
    light -= p.vignette * (xs ** 2 + ys ** 2) * 2
    if p.shadow:
        # A soft band of shadow, as from a hand or a phone held over the page.
        a = rng.uniform(0, np.pi)
        offset = rng.uniform(-0.3, 0.3)
        band = np.abs(np.cos(a) * xs + np.sin(a) * ys - offset) < rng.uniform(0.08, 0.2)
        soft = cv2.GaussianBlur(band.astype(np.float32), (0, 0), max(3.0, w / 60))
        light -= p.shadow * soft
    return np.clip(light, 0.25, 1.05)


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    m = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, m, (length, length))
    return k / max(k.sum(), 1e-6)


def photograph(image: np.ndarray, p: PhotoParams, rng: np.random.Generator, *, out_width: int,
               keep: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """A phone photo of ``image``: on a background, in perspective, rotated, unevenly lit,
    blurred, noisy, margins possibly cut; ``keep`` (pixel box of ``image``) stays in frame."""
    h, w = image.shape[:2]
    pad_x, pad_y = int(w * p.margin) + 8, int(h * p.margin) + 8
    big_w, big_h = w + 2 * pad_x, h + 2 * pad_y
    canvas = _texture((big_h, big_w), p.background, rng)
    jitter = rng.uniform(-1, 1, (4, 2)) * p.perspective * np.array([w, h])
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    centre = np.array([big_w / 2, big_h / 2])
    rot = cv2.getRotationMatrix2D((0, 0), p.angle, 1.0)[:, :2]
    dst = (src - np.array([w / 2, h / 2])) @ rot.T + centre + jitter
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(image, matrix, (big_w, big_h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (big_w, big_h))
    canvas = np.where(mask[..., None] > 127, warped, canvas)
    # The frame: the page's bounding box plus background, cut on some sides but never into `keep`.
    page_box = cv2.perspectiveTransform(src[None], matrix)[0]
    x0, y0 = page_box.min(axis=0)
    x1, y1 = page_box.max(axis=0)
    frame = [max(0.0, x0 - pad_x * 0.6), max(0.0, y0 - pad_y * 0.6), min(big_w, x1 + pad_x * 0.6),
             min(big_h, y1 + pad_y * 0.6)]
    if keep is not None and p.crop_sides:
        kx0, ky0, kx1, ky1 = keep
        kept = cv2.perspectiveTransform(np.float32([[[kx0, ky0], [kx1, ky0], [kx1, ky1], [kx0, ky1]]]), matrix)[0]
        limit = [kept[:, 0].min() - 12, kept[:, 1].min() - 12, kept[:, 0].max() + 12, kept[:, 1].max() + 12]
        for side in rng.choice(4, size=p.crop_sides, replace=False):
            side = int(side)
            target = frame[side] + rng.uniform(0.3, 1.0) * (limit[side] - frame[side])
            frame[side] = max(frame[side], target) if side < 2 else min(frame[side], target)
    fx0, fy0, fx1, fy1 = (int(round(v)) for v in frame)
    photo = canvas[fy0:fy1, fx0:fx1].astype(np.float32)
    ph, pw = photo.shape[:2]
    photo *= _light(ph, pw, p, rng)[..., None]
    photo *= rng.uniform(0.95, 1.05, 3)[None, None, :]
    scale = out_width / pw
    photo = cv2.resize(np.clip(photo, 0, 255), (out_width, max(1, int(round(ph * scale)))),
                       interpolation=cv2.INTER_AREA)
    if p.motion:
        photo = cv2.filter2D(photo, -1, _motion_kernel(p.motion, rng.uniform(0, 180)))
    if p.blur > 0.05:
        photo = cv2.GaussianBlur(photo, (0, 0), p.blur)
    photo += rng.normal(0, p.noise, photo.shape[:2])[..., None] + rng.normal(0, p.noise / 3, photo.shape)
    out = np.clip(photo, 0, 255).astype(np.uint8)
    if p.quarter_turns:
        out = np.ascontiguousarray(np.rot90(out, p.quarter_turns))
    return out


def scan(image: np.ndarray, rng: np.random.Generator, *, grey: bool = True) -> np.ndarray:
    """A flatbed/office scan: a hair of skew, toner grey, a little noise and dust."""
    h, w = image.shape[:2]
    angle = rng.uniform(-1.2, 1.2)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += rng.uniform(-6, 6, 2)
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(250, 250, 250)).astype(np.float32)
    if grey:
        out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[..., None].repeat(3, axis=2)
    ink = rng.uniform(0.0, 35.0)
    out = out * (1 - ink / 255) + ink  # toner not quite black
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.7))
    out += rng.normal(0, rng.uniform(1.5, 4.0), out.shape[:2])[..., None]
    for _ in range(int(rng.integers(0, 25))):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        cv2.circle(out, (x, y), int(rng.integers(1, 3)), (60, 60, 60), -1)
    return np.clip(out, 0, 255).astype(np.uint8)


def unreadable(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What no reader recovers: shot from far away, shaken, with glare over the print."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(8, w // 9), max(8, h // 9)), interpolation=cv2.INTER_AREA)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    out = cv2.filter2D(out, -1, _motion_kernel(int(rng.integers(31, 47)), rng.uniform(0, 180)))
    out = cv2.GaussianBlur(out, (0, 0), 4.0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.35, 0.65) * h
    glare = np.exp(-(((xx - cx) / (0.35 * w)) ** 2 + ((yy - cy) / (0.3 * h)) ** 2))
    out = out + 230 * glare[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg_bytes(image: np.ndarray, quality: int, *, recompress: int | None = None) -> bytes:
    """JPEG of an RGB array; ``recompress``: saved once before at that quality (messenger apps)."""
    pil = Image.fromarray(image)
    if recompress:
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=recompress)
        pil = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=True)
    return buf.getvalue()
