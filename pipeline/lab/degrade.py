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
           "LEVELS", "HardParams", "hard_params", "hard_photograph", "careful_hard_photo", "legible", "MIN_EM_PX",
           "MIN_CONTRAST"]

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


# ------------------------------------------------------------------------------------------ hard phone photos

MIN_EM_PX = 11.0
"""Smallest em height (px) a labelled value may have in a hard photo: about 8 px capitals, what a
careful person still reads on a phone screen."""
MIN_CONTRAST = 40.0
"""Smallest ink-to-paper difference (grey levels, 0..255) a labelled value may keep under glare,
shadow, fading ink and blur."""


@dataclass(frozen=True)
class HardParams:
    """A phone photo taken badly: tilted, in a hand's shadow, with a glare spot, small and rough."""

    pitch: float
    """Degrees the camera is tilted forward/back (the page's far edge shrinks: a real 4-point warp)."""
    yaw: float
    roll: float
    distance: float
    """Camera distance in page sizes: closer is a stronger perspective."""
    margin: float
    hand: float
    """Depth of the hand's shadow (share of light taken where it is darkest; 0: no hand)."""
    hand_side: int
    hand_reach: float
    glare: float
    """Peak of the glare spot (share blended towards white; 0: none)."""
    glare_at: tuple[float, float]
    glare_size: float
    shade: float
    shade_angle: float
    blur_near: float
    blur_far: float
    """Defocus (Gaussian sigma, output px) at the near and the far edge of the tilted page."""
    shake: int
    noise: float
    sharpen: float
    quality: int
    recompress: int | None
    out_width: int
    fade: float
    """Thermal receipts: share of the ink's darkness lost (0: fresh print)."""
    curl: float
    """Thermal receipts: how much the roll curls (0: flat)."""
    background: tuple[int, int, int]


def hard_params(rng: np.random.Generator, *, receipt: bool = False, sticker: bool = False) -> HardParams:
    """Parameters of one hard phone photo (of an invoice page, a till receipt or a serial sticker)."""
    u = rng.uniform
    sign = lambda: float(rng.choice([-1.0, 1.0]))  # noqa: E731
    backgrounds = [(128, 96, 70), (180, 180, 176), (60, 62, 66), (200, 190, 170), (95, 110, 125), (150, 120, 95)]
    hand = float(u(0.35, 0.6)) if u() < 0.75 else 0.0
    glare = float(u(0.4, 0.7)) if u() < 0.75 else 0.0
    if not hand and not glare:
        (hand, glare) = (float(u(0.35, 0.6)), 0.0) if u() < 0.5 else (0.0, float(u(0.4, 0.7)))
    return HardParams(
        pitch=sign() * (float(u(8, 20)) if sticker else float(u(12, 30))),
        yaw=sign() * float(u(0, 16)),
        roll=float(u(-10, 10)),
        distance=float(u(1.3, 2.0)),
        margin=float(u(0.04, 0.12)) if not receipt else float(u(0.2, 0.4)),
        hand=hand,
        hand_side=int(rng.integers(0, 4)),
        hand_reach=float(u(0.25, 0.55)),
        glare=glare * (0.6 if sticker else 1.0),
        glare_at=(float(u(0.2, 0.8)), float(u(0.2, 0.8))),
        glare_size=float(u(0.08, 0.18)),
        shade=float(u(0.1, 0.3)),
        shade_angle=float(u(0, 2 * np.pi)),
        blur_near=float(u(0.3, 0.7)),
        blur_far=float(u(0.8, 1.5)),
        shake=int(rng.integers(2, 5)) if u() < 0.25 else 0,
        noise=float(u(3.0, 7.0)),
        sharpen=float(u(0.2, 0.8)),
        quality=int(rng.integers(35, 55)),
        recompress=int(rng.integers(40, 60)) if u() < 0.5 and not sticker else None,
        # a messenger's or a portal's downscale; a sticker is shot from close by
        out_width=int(rng.integers(1000, 1240)) if sticker else
        (int(rng.integers(800, 1100)) if not receipt else int(rng.integers(560, 760))),
        fade=float(u(0.25, 0.55)) if receipt else 0.0,
        curl=float(u(0.3, 1.0)) if receipt else 0.0,
        background=backgrounds[int(rng.integers(0, len(backgrounds)))],
    )


def _soften(p: HardParams) -> HardParams:
    """The same photo taken a little more carefully (used when a labelled value came out unreadable)."""
    from dataclasses import replace

    return replace(p, glare=p.glare * 0.6, hand=p.hand * 0.7, fade=p.fade * 0.6,
                   blur_far=max(p.blur_near, p.blur_far * 0.7), shake=0, pitch=p.pitch * 0.8,
                   out_width=int(p.out_width * 1.15), quality=min(90, p.quality + 8), recompress=None)


def _thermal(image: np.ndarray, fade: float, rng: np.random.Generator) -> np.ndarray:
    """Faded thermal print: the ink's darkness lost unevenly (along the roll and in patches), the
    paper's warm grey, a few dropped dots in the strokes."""
    h, w = image.shape[:2]
    grey = image.astype(np.float32).mean(axis=2)
    ink = np.clip((250.0 - grey) / 250.0, 0, 1)
    patches = cv2.resize(rng.uniform(0, 1, (max(2, h // 120), max(2, w // 120))).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_CUBIC)
    rows = cv2.resize(rng.uniform(0, 1, (max(2, h // 40), 1)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_LINEAR)
    loss = fade * np.clip(0.55 + 0.3 * patches + 0.15 * rows, 0, 1)
    dots = rng.uniform(0, 1, (h, w)) < 0.04
    kept = ink * (1 - loss) * np.where(dots, 0.5, 1.0)
    paper = np.array([244, 241, 232], np.float32)
    tone = np.array([48, 46, 62], np.float32)
    out = paper[None, None, :] - kept[..., None] * (paper - tone)[None, None, :]
    return np.clip(out, 0, 255).astype(np.uint8)


def _curl_maps(h: int, w: int, curl: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Remap grids bowing the rows of a curled roll (and a slow wave along it)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bow = curl * 0.035 * w
    period = float(rng.uniform(0.6, 1.4)) * h
    phase = float(rng.uniform(0, 2 * np.pi))
    map_y = yy - bow * (((xx / w) - 0.5) * 2) ** 2 + bow * 0.5
    map_x = xx + curl * 0.01 * w * np.sin(2 * np.pi * yy / period + phase)
    return map_x, map_y


def _camera(w: int, h: int, p: HardParams) -> np.ndarray:
    """Where the page's corners land for a pinhole camera tilted by pitch/yaw/roll (pixels, centred)."""
    a, b, c = np.radians([p.pitch, p.yaw, p.roll])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]], float)
    cam = corners @ (rz @ ry @ rx).T
    dist = p.distance * max(w, h)
    cam[:, 2] += dist
    return (cam[:, :2] * dist / cam[:, 2:3]).astype(np.float32)


def _hand_mask(h: int, w: int, p: HardParams, rng: np.random.Generator) -> np.ndarray:
    """A soft shadow of a forearm, a palm and fingers reaching in from one edge (0..1)."""
    s = 4  # drawn small, blurred, scaled up: a shadow has no sharp edge
    hs, ws = max(8, h // s), max(8, w // s)
    mask = np.zeros((hs, ws), np.uint8)
    side = p.hand_side
    along = float(rng.uniform(0.25, 0.75))
    reach = p.hand_reach
    # in unit coordinates of the edge: (t along the edge, d into the frame)
    def to_px(t: float, d: float) -> tuple[int, int]:
        x, y = {0: (t, d), 1: (1 - d, t), 2: (t, 1 - d), 3: (d, t)}[side]
        return int(x * ws), int(y * hs)

    scale = min(hs, ws)
    angle_in = {0: 90, 1: 180, 2: 270, 3: 0}[side] + float(rng.uniform(-25, 25))
    cx, cy = to_px(along, reach * 0.45)
    cv2.ellipse(mask, (cx, cy), (int(reach * 0.6 * max(hs, ws)), int(0.11 * scale)), angle_in, 0, 360, 255, -1)
    px, py = to_px(along, reach)
    cv2.ellipse(mask, (px, py), (int(0.11 * scale), int(0.09 * scale)), angle_in, 0, 360, 255, -1)
    for k in range(4):
        spread = np.radians(angle_in + (k - 1.5) * 14)
        length = 0.12 * scale * (0.8 + 0.2 * (k in (1, 2)))
        fx, fy = px + np.cos(spread) * length * 1.4, py + np.sin(spread) * length * 1.4
        cv2.line(mask, (px, py), (int(fx), int(fy)), 255, max(2, int(0.035 * scale)))
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), max(2.0, 0.04 * scale))
    return cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)


def _measure(grey: np.ndarray, ink: np.ndarray, box: np.ndarray, em: float) -> float | None:
    """Lowest ink-to-paper contrast over the cells of one text box in the final photo (None: too
    little of it in frame to measure)."""
    x0, y0 = np.floor(box.min(axis=0)).astype(int)
    x1, y1 = np.ceil(box.max(axis=0)).astype(int)
    h, w = grey.shape
    x0, y0, x1, y1 = max(0, x0 - 2), max(0, y0 - 2), min(w, x1 + 2), min(h, y1 + 2)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    g, m = grey[y0:y1, x0:x1], ink[y0:y1, x0:x1]
    step = max(6, int(3 * em))
    worst = None
    for cx in range(0, g.shape[1], step):
        cell_g, cell_m = g[:, cx:cx + step], m[:, cx:cx + step]
        inked, bare = cell_g[cell_m > 0.6], cell_g[cell_m < 0.05]
        if inked.size < 3 or bare.size < 10:
            continue
        contrast = float(np.median(bare) - np.median(inked))
        worst = contrast if worst is None else min(worst, contrast)
    return worst


def hard_photograph(image: np.ndarray, p: HardParams, rng: np.random.Generator, *,
                    keys: list[tuple[tuple[float, float, float, float], float]] = (),
                    min_em: float = MIN_EM_PX) -> tuple[np.ndarray, bytes, dict]:
    """A hard phone photo of ``image`` and its JPEG bytes, with what was measured of the ``keys``
    (boxes in image pixels, each with its text's em height in image pixels) in the final JPEG:
    ``{"min_contrast", "min_em_px", "fields"}``. The output is never smaller than keeps each key's
    em at ``min_em`` px: low resolution, but not below what a careful person reads."""
    page = _thermal(image, p.fade, rng) if p.fade else image
    h, w = page.shape[:2]
    ink = (image.astype(np.float32).mean(axis=2) < 140).astype(np.float32)
    if p.curl:
        map_x, map_y = _curl_maps(h, w, p.curl, rng)
        page = cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        ink = cv2.remap(ink, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    quad = _camera(w, h, p)
    span = quad.max(axis=0) - quad.min(axis=0)
    pad = np.array([span[0] * p.margin + 8, span[1] * p.margin + 8])
    dst = quad - quad.min(axis=0) + pad
    big_w, big_h = (int(v) for v in np.ceil(span + 2 * pad))
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    canvas = _texture((big_h, big_w), p.background, rng).astype(np.float32)
    warped = cv2.warpPerspective(page, matrix, (big_w, big_h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 1.0, np.float32), matrix, (big_w, big_h))[..., None]
    canvas = warped.astype(np.float32) * mask + canvas * (1 - mask)
    ink_big = cv2.warpPerspective(ink, matrix, (big_w, big_h), flags=cv2.INTER_AREA)
    # light: an even gradient, the hand's shadow (a little blue: lit by the sky), a glare spot
    yy, xx = np.mgrid[0:big_h, 0:big_w].astype(np.float32)
    xs, ys = xx / big_w - 0.5, yy / big_h - 0.5
    light = 1.0 - p.shade * (np.cos(p.shade_angle) * xs + np.sin(p.shade_angle) * ys + 0.5)
    photo = canvas * light[..., None]
    if p.hand:
        m = _hand_mask(big_h, big_w, p, rng)[..., None]
        photo *= 1 - p.hand * m * np.array([1.0, 0.96, 0.86], np.float32)[None, None, :]
    if p.glare:
        gx, gy = cv2.perspectiveTransform(np.float32([[[p.glare_at[0] * w, p.glare_at[1] * h]]]), matrix)[0, 0]
        sx, sy = p.glare_size * big_w, p.glare_size * big_w * float(rng.uniform(0.5, 0.9))
        r2 = ((xx - gx) / sx) ** 2 + ((yy - gy) / sy) ** 2
        g = p.glare * np.exp(-(r2 ** 0.8))[..., None]
        photo = photo * (1 - g) + 255.0 * g
    # the phone's sensor: small, defocused across the tilt, noisy, sharpened, JPEG
    out_width = p.out_width
    if keys:  # small, but never below what keeps each key's em at min_em px
        smallest = min(em * _scale_at(matrix, ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)) for b, em in keys)
        out_width = max(out_width, int(np.ceil(min_em * big_w / smallest)))
    scale = out_width / big_w
    out_h = max(1, int(round(big_h * scale)))
    small = cv2.resize(np.clip(photo, 0, 255), (out_width, out_h), interpolation=cv2.INTER_AREA)
    ink_small = cv2.resize(ink_big, (out_width, out_h), interpolation=cv2.INTER_AREA)
    near = cv2.GaussianBlur(small, (0, 0), p.blur_near)
    far = cv2.GaussianBlur(small, (0, 0), p.blur_far)
    ramp_dir = np.array([np.sin(np.radians(p.yaw)), np.sin(np.radians(p.pitch))])
    ramp_dir /= max(1e-6, float(np.linalg.norm(ramp_dir)))
    yy, xx = np.mgrid[0:out_h, 0:out_width].astype(np.float32)
    t = (ramp_dir[0] * (xx / out_width - 0.5) + ramp_dir[1] * (yy / out_h - 0.5)) + 0.5
    alpha = np.clip(t, 0, 1)[..., None]
    small = near * (1 - alpha) + far * alpha
    if p.shake:
        small = cv2.filter2D(small, -1, _motion_kernel(p.shake, rng.uniform(0, 180)))
    lum = small.mean(axis=2, keepdims=True) / 255
    small += rng.normal(0, p.noise, small.shape[:2])[..., None] * (1.3 - lum) + rng.normal(0, p.noise / 3, small.shape)
    if p.sharpen:
        soft = cv2.GaussianBlur(small, (0, 0), 1.2)
        small = small + p.sharpen * (small - soft)
    out = np.clip(small, 0, 255).astype(np.uint8)
    data = jpeg_bytes(out, p.quality, recompress=p.recompress)
    seen = np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.float32)
    fields = []
    for box, em in keys:
        x0, y0, x1, y1 = box
        quad_k = cv2.perspectiveTransform(np.float32([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]]), matrix)[0] * scale
        em_px = em * _scale_at(matrix, ((x0 + x1) / 2, (y0 + y1) / 2)) * scale
        fields.append({"em_px": round(em_px, 1), "contrast": _measure(seen, ink_small, quad_k, em_px)})
    measured = [f["contrast"] for f in fields if f["contrast"] is not None]
    info = {"min_contrast": round(min(measured), 1) if measured else None,
            "min_em_px": round(min((f["em_px"] for f in fields), default=0.0), 1), "fields": len(fields)}
    return out, data, info


def _scale_at(matrix: np.ndarray, point: tuple[float, float]) -> float:
    """Linear magnification of a homography at a point (the square root of its Jacobian's determinant)."""
    x, y = point
    d = 0.5
    pts = cv2.perspectiveTransform(np.float32([[[x, y], [x + d, y], [x, y + d]]]), matrix)[0]
    jac = np.array([(pts[1] - pts[0]) / d, (pts[2] - pts[0]) / d])
    return float(np.sqrt(abs(np.linalg.det(jac))))


def legible(info: dict) -> bool:
    """Whether every measured key of a hard photo stays readable for a careful person."""
    return (info.get("min_contrast") is not None and info["min_contrast"] >= MIN_CONTRAST
            and info.get("min_em_px", 0) >= MIN_EM_PX - 0.5)


def careful_hard_photo(image: np.ndarray, p: HardParams, rng: np.random.Generator, keys) -> tuple[bytes, dict]:
    """A hard photo whose labelled values stay legible: taken again, a little more carefully, while
    one is not (at most four times; the measurements are returned with the photo)."""
    for attempt in range(5):
        _, data, info = hard_photograph(image, p, rng, keys=keys)
        info["attempts"] = attempt + 1
        if legible(info):
            break
        p = _soften(p)
    return data, info
