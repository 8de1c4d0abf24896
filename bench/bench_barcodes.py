"""Barcode decode rate, false positives and speed: pyzbar alone, zxing-cpp alone, the wrapper.

Every folder under --samples with labelled images (N.png|N.webp|... beside N.txt, the
encoded text) counts for the decode rate: an image is decoded when one result's text
equals its label. Every ``falsepositives*`` folder must decode to nothing. The
engines alone run once with their library defaults (all symbologies, no retries);
zxing-cpp is asked for Plain text so GS1 codes are compared without HRI parentheses.

    .venv/bin/python bench/bench_barcodes.py
    .venv/bin/python bench/bench_barcodes.py --samples ../shared/realworld/barcodes --degraded

``--degraded`` also reads degraded copies of the labelled photos (small, blurred,
JPEG, turned, low contrast, noisy): the plain photos are all read without retries,
so this is where the retries show what they add.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.ocr.barcodes import decode_barcodes, probe  # noqa: E402

IMAGE_SUFFIXES = {".png", ".webp", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff"}


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def label_of(path: Path) -> str | None:
    txt = path.with_suffix(".txt")
    # Bytes, not text mode: labels keep their \r\n, as the codes encode them.
    return txt.read_bytes().decode("utf-8") if txt.exists() else None


def collect(root: Path) -> tuple[list[tuple[str, Path, str]], list[tuple[str, Path]]]:
    labelled, negatives = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            name = f"{folder.name}/{path.name}"
            if folder.name.startswith("falsepositives"):
                negatives.append((name, path))
            elif (label := label_of(path)) is not None:
                labelled.append((name, path, label))
    return labelled, negatives


def gray(rgb: np.ndarray) -> np.ndarray:
    """The engines' input: what the wrapper reads too (zxing-cpp takes 3 channels as BGR)."""
    import cv2

    return rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def pyzbar_alone(rgb: np.ndarray) -> list[str]:
    from pyzbar import pyzbar

    texts = []
    for r in pyzbar.decode(gray(rgb)):
        try:
            texts.append(r.data.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(r.data.decode("latin-1"))
    return texts


def zxing_alone(rgb: np.ndarray) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(gray(rgb), text_mode=zxingcpp.TextMode.Plain)]


def wrapper(rgb: np.ndarray) -> list[str]:
    return [b.text for b in decode_barcodes(rgb)]


DECODERS: dict[str, Callable[[np.ndarray], list[str]]] = {
    "pyzbar alone": pyzbar_alone,
    "zxing-cpp alone": zxing_alone,
    "wrapper (both + retries)": wrapper,
}


def run(root: Path, verbose: bool) -> None:
    labelled, negatives = collect(root)
    if not labelled and not negatives:
        raise SystemExit(f"No samples under {root}")
    images = {path: load_rgb(path) for path in [p for _, p, _ in labelled] + [p for _, p in negatives]}
    print(f"samples: {root}")
    print(f"engines: {probe()}")
    print(f"{len(labelled)} labelled images, {len(negatives)} images without a barcode\n")
    header = (
        f"{'decoder':26} {'decoded':>12} {'rate':>6} {'false pos.':>11} "
        f"{'ms/img (codes)':>15} {'ms/img (none)':>14}"
    )
    print(header)
    print("-" * len(header))
    for name, decode in DECODERS.items():
        decoder_misses, false_positives = [], []
        t0 = time.perf_counter()
        hits = 0
        for sample, path, label in labelled:
            if label in decode(images[path]):
                hits += 1
            else:
                decoder_misses.append(sample)
        t1 = time.perf_counter()
        for sample, path in negatives:
            found = decode(images[path])
            if found:
                false_positives.append(f"{sample}: {found!r}")
        t2 = time.perf_counter()
        n, m = len(labelled), len(negatives)
        print(
            f"{name:26} {hits:>5} / {n:<4} {hits / n if n else 0:>6.2f} {len(false_positives):>5} / {m:<3} "
            f"{(t1 - t0) * 1000 / max(n, 1):>15.1f} {(t2 - t1) * 1000 / max(m, 1):>14.1f}"
        )
        if verbose:
            for sample in decoder_misses:
                print(f"    missed: {sample}")
            for line in false_positives:
                print(f"    false positive: {line}")


def degradations() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Harder copies of the labelled photos: what the retries exist for."""
    import io

    import cv2

    def turned(g: np.ndarray, angle: float) -> np.ndarray:
        h, w = g.shape
        c, s = abs(np.cos(np.radians(angle))), abs(np.sin(np.radians(angle)))
        nw, nh = int(h * s + w * c), int(h * c + w * s)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        m[0, 2] += nw / 2 - w / 2
        m[1, 2] += nh / 2 - h / 2
        return cv2.warpAffine(g, m, (nw, nh), borderValue=255)

    def jpeg(g: np.ndarray) -> np.ndarray:
        buf = io.BytesIO()
        Image.fromarray(cv2.resize(g, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)).save(
            buf, "JPEG", quality=8
        )
        return np.asarray(Image.open(buf))

    def low_contrast(g: np.ndarray) -> np.ndarray:
        ramp = np.linspace(60, 170, g.shape[1])[None, :]
        return np.clip(g * 0.3 + ramp, 0, 255).astype(np.uint8)

    def noise(g: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(0)
        return np.clip(g + rng.normal(0, 30, g.shape), 0, 255).astype(np.uint8)

    return {
        "small 0.4x": lambda g: cv2.resize(g, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA),
        "blur": lambda g: cv2.GaussianBlur(g, (0, 0), max(1.0, min(g.shape) / 120)),
        "jpeg q8 0.6x": jpeg,
        "turned 30": lambda g: turned(g, 30),
        "turned 45": lambda g: turned(g, 45),
        "low contrast": low_contrast,
        "noise": noise,
    }


def run_degraded(root: Path) -> None:
    from pipeline.config import default_config

    labelled, _ = collect(root)
    plain_cfg = default_config().barcodes.model_copy(update={"retry": False})
    decoders: dict[str, Callable[[np.ndarray], list[str]]] = {
        "pyzbar alone": pyzbar_alone,
        "zxing-cpp alone": zxing_alone,
        "wrapper, no retries": lambda im: [b.text for b in decode_barcodes(im, plain_cfg)],
        "wrapper (both + retries)": wrapper,
    }
    print(f"\ndegraded copies of the {len(labelled)} labelled images (decoded / copies):")
    print(f"{'copy':14}" + "".join(f"{name:>26}" for name in decoders))
    totals = dict.fromkeys(decoders, 0)
    wrong = dict.fromkeys(decoders, 0)
    n = 0
    for copy, degrade in degradations().items():
        row = dict.fromkeys(decoders, 0)
        for _, path, label in labelled:
            image = degrade(gray(load_rgb(path)))
            for name, decode in decoders.items():
                texts = decode(image)
                row[name] += label in texts
                wrong[name] += any(t != label for t in texts)
        n += len(labelled)
        for name in decoders:
            totals[name] += row[name]
        print(f"{copy:14}" + "".join(f"{row[name]:>26}" for name in decoders))
    print(f"{'total':14}" + "".join(f"{f'{totals[k]} / {n} ({totals[k] / n:.2f})':>26}" for k in decoders))
    print(f"{'wrong text':14}" + "".join(f"{wrong[k]:>26}" for k in decoders))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples",
        type=Path,
        default=REPO.parent / "shared" / "realworld" / "barcodes",
        help="folder of sample folders (default: ../shared/realworld/barcodes beside the repo)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not list misses and false positives")
    parser.add_argument(
        "--degraded", action="store_true", help="also read degraded copies (small, blurred, turned, ...)"
    )
    args = parser.parse_args(argv)
    run(args.samples.resolve(), verbose=not args.quiet)
    if args.degraded:
        run_degraded(args.samples.resolve())


if __name__ == "__main__":
    main()
