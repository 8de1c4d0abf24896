"""Benchmark OCR speed and accuracy on SROIE receipts: raw Tesseract vs the pipeline.

Run from the repository root::

    .venv/bin/python bench/bench_ocr.py [--n 40] [--sroie DIR] [--degraded 15] [--jobs 2]

Prints three tables:

a. speed: ms per page of the bare ``tesseract IMG stdout`` CLI (one process per page)
   against ``claimcheck ocr`` with and without preprocessing (all pages in one
   invocation, so start-up is amortised as in a batch), and their ratio;
b. accuracy on the clean scans: character accuracy ``1 - Levenshtein / len(truth)``
   (clipped at 0) on normalised text (upper case, whitespace collapsed) and word
   recall (share of truth tokens found among the OCR tokens), for raw Tesseract,
   the pipeline without preprocessing, with the default steps, and an ablation of
   single steps and combinations;
c. the same on degraded copies (quarter turns, skew, shadow, half size, blur+JPEG)
   made deterministically in memory, where the steps have to earn their keep.

Timing runs one process at a time; the ablation runs use a Pool of ``--jobs``
workers with ``OMP_THREAD_LIMIT=1``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.config import Config, default_config  # noqa: E402
from pipeline.ocr import tesseract  # noqa: E402
from pipeline.ocr.preprocess import prepare_for_ocr, read_upright, rotate_quarter  # noqa: E402

__all__ = ["normalise", "char_accuracy", "word_recall", "truth_text", "degrade", "DEGRADATIONS"]

# A variant: the steps, config overrides, and (degraded set only) which degradations it is
# run on: each "default minus a step" only where that step is meant to help, to keep the
# bench under ten minutes on two cores.
Variant = tuple[list[str], dict, tuple[str, ...] | None]
DEFAULT = list(default_config().preprocess.steps)


def _without(step: str) -> list[str]:
    return [s for s in DEFAULT if s != step]


CLEAN_VARIANTS: dict[str, Variant] = {
    "no steps": ([], {}, None),
    "orient only": (["orient"], {}, None),
    "deskew only": (["deskew"], {}, None),
    "background only (gated)": (["background"], {}, None),
    "background only, always": (["background"], {"min_shaded_paper_share": 0.0}, None),
    "scale only": (["scale"], {}, None),
    "denoise only": (["denoise"], {}, None),
    "binarise only": (["binarise"], {}, None),
    "deskew+scale": (["deskew", "scale"], {}, None),
    "default, target height 30": (DEFAULT, {"target_text_height_px": 30}, None),
    "default + binarise": ([*DEFAULT, "binarise"], {}, None),
}
DEGRADED_VARIANTS: dict[str, Variant] = {
    "no steps": ([], {}, None),
    "default steps": (DEFAULT, {}, None),
    "default - orient": (_without("orient"), {}, ("rot90", "rot180")),
    "default - deskew": (_without("deskew"), {}, ("skew",)),
    "default - background": (_without("background"), {}, ("shadow",)),
    "default - scale": (_without("scale"), {}, ("half", "blur_jpeg")),
    "default + binarise": ([*DEFAULT, "binarise"], {}, ("shadow", "blur_jpeg")),
}
DEGRADATIONS = ("rot90", "rot180", "skew", "shadow", "half", "blur_jpeg")


# -- scoring -----------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """Upper case, runs of whitespace collapsed to one space, trimmed.

    >>> normalise("  Tax  invoice\\n\\nNo. 12 ")
    'TAX INVOICE NO. 12'
    """
    return re.sub(r"\s+", " ", text.upper()).strip()


def char_accuracy(ocr: str, truth: str) -> float:
    """1 - edit distance / truth length on normalised text, clipped at 0."""
    t, o = normalise(truth), normalise(ocr)
    if not t:
        return 1.0 if not o else 0.0
    return max(0.0, 1.0 - Levenshtein.distance(o, t) / len(t))


def word_recall(ocr: str, truth: str) -> float:
    """Share of the truth's tokens (with multiplicity) that the OCR text also has."""
    t, o = Counter(normalise(truth).split()), Counter(normalise(ocr).split())
    total = sum(t.values())
    return sum((t & o).values()) / total if total else 1.0


def truth_text(box_csv: Path) -> str:
    """A SROIE receipt's text: its labelled lines (8 coordinates, then the text) joined."""
    lines = []
    for raw in box_csv.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) == 9:
            lines.append(parts[8])
    return "\n".join(lines)


# -- degraded copies ---------------------------------------------------------------------------

def degrade(rgb: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """A deterministic phone-photo-like degradation of an RGB receipt scan."""
    h, w = rgb.shape[:2]
    if kind == "rot90":
        return rotate_quarter(rgb, 90)
    if kind == "rot180":
        return rotate_quarter(rgb, 180)
    if kind == "skew":
        angle = (3 + seed % 5) * (1 if seed % 2 else -1)  # 3..7 degrees, both signs
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    if kind == "shadow":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        # Light falling off across the page, plus a soft shadow (a hand or phone) on one side.
        light = 1.0 - 0.45 * (xx / w * 0.6 + yy / h * 0.4)
        cx, cy = (0.15 if seed % 2 else 0.85) * w, 0.6 * h
        blob = np.exp(-(((xx - cx) / (0.35 * w)) ** 2 + ((yy - cy) / (0.3 * h)) ** 2))
        light = light * (1.0 - 0.45 * blob)
        return np.clip(rgb.astype(np.float32) * light[..., None], 0, 255).astype(np.uint8)
    if kind == "half":
        return cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    if kind == "blur_jpeg":
        blurred = cv2.GaussianBlur(rgb, (0, 0), 1.3)
        ok, buf = cv2.imencode(".jpg", blurred[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 20])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    raise ValueError(kind)


# -- OCR runs ----------------------------------------------------------------------------------

def _load_rgb(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].copy()


def pipeline_text(image: np.ndarray, config: Config) -> str:
    """``read.ocr_page_image`` for one image page, with the upside-down second reading.

    Mirrors read.py plus ``read_upright`` (asked of read.py in the preprocessing report);
    the ``claimcheck ocr`` rows measure read.py as it is.
    """
    languages = config.ocr.always_languages
    orient = None
    if "orient" in config.preprocess.steps:
        def orient(gray):
            return tesseract.detect_orientation(gray, config.ocr)

    def read(p):
        return tesseract.ocr_image(p.image, languages, config.ocr, scale=p.scale, size=p.size,
                                   rotation=p.rotation)

    prepared = prepare_for_ocr(image, config.preprocess, detect_orientation=orient)
    if "orient" not in config.preprocess.steps:
        return read(prepared).text
    return read_upright(prepared, read, below_conf=config.preprocess.upside_down_below_conf).text


def _config_for(steps: list[str], overrides: dict) -> Config:
    cfg = default_config()
    pre = cfg.preprocess.model_copy(update={"steps": list(steps), "enabled": True, **overrides})
    return cfg.model_copy(update={"preprocess": pre})


def _job(args: tuple) -> tuple:
    variant, steps, overrides, img_path, degradation, seed = args
    rgb = _load_rgb(Path(img_path))
    if degradation:
        rgb = degrade(rgb, degradation, seed)
    t0 = time.perf_counter()
    text = pipeline_text(rgb, _config_for(steps, overrides))
    return variant, img_path, degradation, text, time.perf_counter() - t0


def run_raw_cli(paths: list[Path], config: Config) -> tuple[list[str], float]:
    """Bare ``tesseract IMG stdout``, one process per page, as a person would run it."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = ["-l", "eng", "--psm", str(config.ocr.psm), "--oem", str(config.ocr.oem)]
    texts = []
    t0 = time.perf_counter()
    for p in paths:
        out = subprocess.run(["tesseract", str(p), "stdout", *cmd], capture_output=True, text=True,
                             env=env, check=True, timeout=120)
        texts.append(out.stdout)
    return texts, time.perf_counter() - t0


def run_claimcheck(paths: list[Path], preprocess: bool) -> tuple[list[str], float]:
    """The real console script over all pages in one invocation (``--json`` to split results)."""
    exe = REPO / ".venv" / "bin" / "claimcheck"
    cmd = [str(exe), "ocr", "--json", "--lang", "eng"] + ([] if preprocess else ["--no-preprocess"])
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    t0 = time.perf_counter()
    out = subprocess.run(cmd + [str(p) for p in paths], capture_output=True, text=True, env=env,
                         timeout=1800)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"claimcheck ocr failed ({out.returncode}): {out.stderr[-2000:]}")
    by_file = {}
    for line in out.stdout.splitlines():
        d = json.loads(line)
        by_file[d["file"]] = "\n\n".join(p["text"] for p in d.get("pages", []))
    return [by_file[str(p)] for p in paths], elapsed


# -- report ------------------------------------------------------------------------------------

def _scores(texts: list[str], truths: list[str]) -> tuple[float, float]:
    acc = [char_accuracy(o, t) for o, t in zip(texts, truths)]
    rec = [word_recall(o, t) for o, t in zip(texts, truths)]
    return float(np.mean(acc)), float(np.mean(rec))


def _row(name: str, acc: float, rec: float, ms: float | None = None, base: float | None = None) -> str:
    delta = f"{100 * (acc - base):+6.2f}" if base is not None else "      "
    timing = f"{ms:8.0f}" if ms is not None else "        "
    return f"  {name:<34} {100 * acc:7.2f} {delta} {100 * rec:8.2f} {timing}"


def _header() -> str:
    return f"  {'variant':<34} {'char%':>7} {'d_none':>6} {'word%':>8} {'ms/page':>8}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=40, help="receipts (first N, sorted)")
    ap.add_argument("--sroie", type=Path, default=REPO.parent / "shared" / "realworld" / "sroie")
    ap.add_argument("--degraded", type=int, default=15, help="receipts in the degraded set (0: skip)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-timing", action="store_true", help="no CLI timing runs (accuracy only)")
    args = ap.parse_args(argv)

    paths = sorted((args.sroie / "img").glob("*.jpg"))[: args.n]
    if not paths:
        ap.error(f"no receipts under {args.sroie / 'img'}")
    truths = [truth_text(args.sroie / "box" / (p.stem + ".csv")) for p in paths]
    cfg = default_config()
    started = time.perf_counter()
    print(f"SROIE receipts: {len(paths)} from {args.sroie}; tesseract {tesseract.probe()['version']}; "
          f"psm {cfg.ocr.psm} oem {cfg.ocr.oem}; default steps {cfg.preprocess.steps}")

    # a. speed, one process at a time so the numbers are comparable
    results: dict[str, tuple[float, float, float | None]] = {}
    if not args.skip_timing:
        raw, t_raw = run_raw_cli(paths, cfg)
        plain, t_plain = run_claimcheck(paths, preprocess=False)
        pre, t_pre = run_claimcheck(paths, preprocess=True)
        n = len(paths)
        print("\na. speed (ms per page, sequential, OMP_THREAD_LIMIT=1)")
        print(f"  tesseract CLI, one process per page     {1000 * t_raw / n:8.0f}")
        print(f"  claimcheck ocr --no-preprocess (batch)  {1000 * t_plain / n:8.0f}   "
              f"ratio {t_plain / t_raw:.2f} (goal <= 1.2)")
        print(f"  claimcheck ocr, default steps (batch)   {1000 * t_pre / n:8.0f}   "
              f"ratio {t_pre / t_raw:.2f}")
        results["tesseract CLI (raw)"] = (*_scores(raw, truths), 1000 * t_raw / n)
        results["claimcheck ocr --no-preprocess"] = (*_scores(plain, truths), 1000 * t_plain / n)
        results["claimcheck ocr (default steps)"] = (*_scores(pre, truths), 1000 * t_pre / n)

    # b. ablation on the clean scans
    variants = {"default steps": (DEFAULT, {}, None), **CLEAN_VARIANTS}
    jobs = [(v, steps, over, str(p), "", i) for v, (steps, over, _) in variants.items()
            for i, p in enumerate(paths)]
    with Pool(args.jobs) as pool:
        out = pool.map(_job, jobs, chunksize=1)
    by_variant: dict[str, dict[str, tuple[str, float]]] = {}
    for variant, img, _, text, secs in out:
        by_variant.setdefault(variant, {})[img] = (text, secs)
    for variant, got in by_variant.items():
        texts = [got[str(p)][0] for p in paths]
        ms = 1000 * float(np.mean([got[str(p)][1] for p in paths]))
        results[variant] = (*_scores(texts, truths), ms)
    base = results["no steps"][0]
    print(f"\nb. clean scans, {len(paths)} receipts: char accuracy %, change vs no steps, word recall % "
          f"(ms/page: claimcheck rows are batch wall time,\n   the others in-process per page with "
          f"{args.jobs} workers running)")
    print(_header())
    for name, (acc, rec, ms) in results.items():
        print(_row(name, acc, rec, ms, base))

    # c. degraded copies
    if args.degraded:
        dpaths = paths[: args.degraded]
        dtruth = {str(p): t for p, t in zip(dpaths, truths)}
        jobs = [(v, steps, over, str(p), kind, i) for v, (steps, over, kinds) in DEGRADED_VARIANTS.items()
                for kind in (kinds or DEGRADATIONS) for i, p in enumerate(dpaths)]
        with Pool(args.jobs) as pool:
            out = pool.map(_job, jobs, chunksize=1)
        table: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for variant, img, kind, text, _ in out:
            score = (char_accuracy(text, dtruth[img]), word_recall(text, dtruth[img]))
            table.setdefault((variant, kind), []).append(score)
            table.setdefault((variant, "all"), []).append(score)
        print(f"\nc. degraded copies of {len(dpaths)} receipts: char accuracy % per degradation; "
              f"'all' and word recall over every degradation")
        print(f"  {'variant':<24}" + "".join(f"{k:>10}" for k in (*DEGRADATIONS, "all")) + f"{'word%':>8}")
        for variant, (_, _, kinds) in DEGRADED_VARIANTS.items():
            cells = [f"{100 * np.mean([a for a, _ in table[(variant, k)]]):10.2f}" if (variant, k) in table
                     else f"{'-':>10}" for k in DEGRADATIONS]
            if kinds is None:
                scores = table[(variant, "all")]
                cells.append(f"{100 * np.mean([a for a, _ in scores]):10.2f}"
                             f"{100 * np.mean([r for _, r in scores]):8.2f}")
            print(f"  {variant:<24}" + "".join(cells))
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
