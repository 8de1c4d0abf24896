#!/usr/bin/env python3
"""Integrity signals on a tampered set: how many tampered claims are not approved (and by the
signal meant to catch them), and how many genuine claims an integrity check flags.

The set (``pipeline.lab.tamper.make_set``): genuine AMD cashback claims from the lab's generator
(PDF, scanned PDF and photographed invoices), then per kind of tampering a few claims edited or
reusing an earlier claim's upload. Every claim is verified in order into one fresh claim store
(reuse must come after its source); reads are warmed first with ``--workers`` processes.
"Flagged" = any check of ``pipeline.integrity.INTEGRITY_CHECKS`` uncertain or failed.

The lab part (``--lab-n``): a generated lab set (``generated_set``, all kinds), verified without a
store; its claims labelled approve are the genuine ones counted.

    .venv/bin/python bench/bench_integrity.py --genuine 24 --per-kind 3 --lab-n 120 --workers 2
    .venv/bin/python bench/bench_integrity.py --out out/bench-integrity --reuse   # re-verify the same set

Measured 2026-11-30 (24 genuine + 42 tampered, seed 17, 3 per kind; lab 120 claims seed 17;
2 workers on 2 cores shared with other jobs; 12 min cold, 36 s warm):

    tampering                n  not approved  by its signal
    pdf_overlay_date         3             3              3  (PDF_REVISED, PDF_EDITOR, PDF_HIDDEN_TEXT, PDF_FONT_...)
    pdf_rewrite_date         3             3              3  (PDF_HIDDEN_TEXT, PDF_FONT_MISMATCH)
    pdf_font_date            3             3              3  (PDF_FONT_MISMATCH)
    pdf_editor               3             3              3  (PDF_REVISED, PDF_EDITOR)
    sums_total               3             3              3  (INVOICE_SUMS_MISMATCH)
    sums_line                3             2              2  (a photo's table read column by column: missed)
    photo_pasted_date        1             0              0  (no signal)
    photo_pasted_model       3             3              0  (rejected: the pasted model is not eligible)
    image_editor             3             3              3  (IMAGE_EDITOR)
    reused_crop              3             2              2  (INVOICE_ALREADY_USED; the miss: number not read)
    reused_rotate            3             2              2  (INVOICE_ALREADY_USED; the miss: label glued)
    reused_recompress        3             3              3  (INVOICE_ALREADY_USED)
    reused_sticker           3             3              3  (SERIAL_PHOTO_REUSED, SERIAL_ALREADY_CLAIMED)
    edited_number            2             2              2  (INVOICE_POSSIBLY_EDITED)
    used_product             3             3              3  (PRODUCT_CONDITION_EXCLUDED)
    all tampered            42            38             35  not approved 90.5 %, by its signal 83.3 %
    genuine of the set: 24, flagged by an integrity check 0; lab: 45 genuine, flagged 0

``image_patch`` (a pasted date or model on a photo) is measured whether or not it is on by default,
its own rates printed apart. Measured 2026-11-30 (held-out seed 29, ``--kinds
photo_pasted_date,photo_pasted_model --per-kind 8 --genuine 24``; 3 pastes drew no readable date box
and were skipped):

    photo_pasted_date        6             3              3  INVOICE_PATCH_SUSPECTED 3
    photo_pasted_model       7             7              3  PRODUCT_NOT_ELIGIBLE 5, BUNDLE_INCOMPLETE 5, ...
    image_patch, caught on photo_pasted_date: 3 of 6 examined (50.0 %)
    image_patch, caught on photo_pasted_model: 3 of 7 examined (42.9 %)
    image_patch, genuine claims of the set falsely flagged: 0 of 18 examined (0.0 %; 24 claims)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from multiprocessing import get_context
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _warm(folder: str) -> None:
    from pipeline.config import load_config
    from pipeline.verify import verify_claim

    verify_claim(folder, load_config(), store=None)


def _flags(decision: dict) -> list[str]:
    from pipeline.integrity import INTEGRITY_CHECKS

    return [c["name"] for c in decision["checks"]
            if c["name"] in INTEGRITY_CHECKS and c["status"] in ("uncertain", "fail")
            and c["name"] != "duplicate_serial"]  # a reused serial is a duplicate, not a sign of an edited document


def _with_patch(config):
    """``config`` with ``image_patch`` among ``[integrity].checks`` (it is measured here whether or
    not it is on by default; its own rates are printed apart)."""
    checks = list(config.integrity.checks)
    if "image_patch" not in checks:
        checks.append("image_patch")
    return config.model_copy(update={"integrity": config.integrity.model_copy(update={"checks": checks})})


class _PatchRates:
    """The ``image_patch`` signal's own counts: examined (a value read on a photographed or scanned
    invoice), flagged."""

    def __init__(self) -> None:
        self.counts = Counter()

    def add(self, group: str, decision: dict) -> None:
        check = next((c for c in decision["checks"] if c["name"] == "image_patch"), None)
        self.counts[group, "n"] += 1
        if check is not None and check["status"] != "skipped":
            self.counts[group, "examined"] += 1
            self.counts[group, "flagged"] += check["status"] in ("uncertain", "fail")

    def line(self, group: str, what: str) -> str:
        n, ex, fl = (self.counts[group, k] for k in ("n", "examined", "flagged"))
        return (f"image_patch, {what}: {fl} of {ex} examined ({100 * fl / max(1, ex):.1f} %; {n} claims, "
                f"{n - ex} with no date or model read on a photo or scan)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("out/bench-integrity"))
    ap.add_argument("--genuine", type=int, default=24)
    ap.add_argument("--per-kind", type=int, default=3)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--lab-n", type=int, default=0, help="also count false flags on a lab set of this size")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reuse", action="store_true", help="verify the set already in --out")
    ap.add_argument("--kinds", default="", help="comma-separated tamper kinds to make (default: all)")
    args = ap.parse_args()

    from pipeline.config import load_config, with_overrides
    from pipeline.lab.tamper import KINDS, make_set
    from pipeline.verify import verify_claim

    started = time.time()
    if not args.reuse:
        shutil.rmtree(args.out, ignore_errors=True)
        kinds = tuple(k for k in args.kinds.split(",") if k) or None
        genuine, tampered = make_set(args.out, args.genuine, args.per_kind, args.seed, kinds=kinds)
        manifest = {"genuine": [str(g) for g in genuine],
                    "tampered": [{"folder": str(t.folder), "kind": t.kind, "catches": list(t.catches)}
                                 for t in tampered]}
        (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    manifest = json.loads((args.out / "manifest.json").read_text())
    folders = manifest["genuine"] + [t["folder"] for t in manifest["tampered"]]
    print(f"set: {len(manifest['genuine'])} genuine, {len(manifest['tampered'])} tampered "
          f"({time.time() - started:.0f} s)", flush=True)
    with get_context("spawn").Pool(args.workers) as pool:
        pool.map(_warm, folders, chunksize=1)
    store = args.out / "claims.sqlite3"
    store.unlink(missing_ok=True)
    config = _with_patch(with_overrides(load_config(), store_url=str(store)))
    shipped = set(load_config().integrity.checks)
    patch = _PatchRates()
    decisions = {f: verify_claim(f, config).to_dict() for f in folders}

    print(f"\n{'tampering':22s} {'n':>3s} {'not approved':>13s} {'by its signal':>14s}  reasons")
    per_kind = defaultdict(list)
    for t in manifest["tampered"]:
        per_kind[t["kind"]].append(t)
    totals = Counter()
    for kind in KINDS:
        rows = per_kind.get(kind, [])
        if not rows:
            continue
        stopped = caught = 0
        codes = Counter()
        for t in rows:
            d = decisions[t["folder"]]
            if kind.startswith("photo_pasted"):
                patch.add(kind, d)
            reasons = [r["code"] for r in d["reasons"]]
            codes.update(reasons)
            stopped += d["decision"] != "approve"
            caught += any(c in reasons for c in t["catches"])
        totals["n"] += len(rows)
        totals["stopped"] += stopped
        totals["caught"] += caught
        print(f"{kind:22s} {len(rows):3d} {stopped:>13d} {caught:>14d}  "
              + ", ".join(f"{c} {n}" for c, n in codes.most_common(4)))
    print(f"{'all tampered':22s} {totals['n']:3d} {totals['stopped']:>13d} {totals['caught']:>14d}   "
          f"not approved {100 * totals['stopped'] / max(1, totals['n']):.1f} %, "
          f"by the signal meant to catch them {100 * totals['caught'] / max(1, totals['n']):.1f} %")

    for kind in ("photo_pasted_date", "photo_pasted_model"):
        if patch.counts[kind, "n"]:
            print(patch.line(kind, f"caught on {kind}"))
    genuine = [decisions[g] for g in manifest["genuine"]]
    for g in genuine:
        patch.add("genuine", g)
    print(patch.line("genuine", "genuine claims of the set falsely flagged"))
    if "image_patch" not in shipped:
        print("(image_patch is off by default: the flagged counts below include it; as shipped: "
              f"{sum(bool([f for f in _flags(g) if f != 'image_patch']) for g in genuine)} genuine flagged)")
    flagged = [g for g in genuine if _flags(g)]
    print(f"\ngenuine of the set: {len(genuine)}; approved {sum(g['decision'] == 'approve' for g in genuine)}; "
          f"flagged by an integrity check {len(flagged)} ({100 * len(flagged) / max(1, len(genuine)):.1f} %): "
          + ", ".join(f"{n} {c}" for c, n in Counter(f for g in flagged for f in _flags(g)).items()))
    if args.lab_n:
        from pipeline.lab import generated_set

        lab = generated_set(args.out.parent / "bench-integrity-lab", args.lab_n, args.seed, "all")
        claims = sorted(p.parent for p in lab.rglob("expected.json"))
        with get_context("spawn").Pool(args.workers) as pool:
            pool.map(_warm, [str(c) for c in claims], chunksize=1)
        base = _with_patch(load_config())
        counted = Counter()
        names = Counter()
        for c in claims:
            label = json.loads((c / "expected.json").read_text())
            if label.get("decision") != "approve":
                continue
            decided = verify_claim(c, base, store=None).to_dict()
            flags = _flags(decided)
            patch.add("lab", decided)
            counted["genuine"] += 1
            counted["flagged"] += bool(flags)
            names.update(flags)
        print(f"lab (n={args.lab_n}, seed {args.seed}): {counted['genuine']} genuine (labelled approve), "
              f"flagged by an integrity check {counted['flagged']} "
              f"({100 * counted['flagged'] / max(1, counted['genuine']):.1f} %): "
              + ", ".join(f"{n} {c}" for c, n in names.items()))
        print(patch.line("lab", "genuine lab claims falsely flagged"))
    print(f"\n{time.time() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
