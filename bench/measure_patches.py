#!/usr/bin/env python3
"""The ``image_patch`` statistics of every value it examines, on genuine and pasted claims, and the
catch / false-flag rates they give under ``[patch]`` of integrity.toml (or a grid of cut-offs).

Each claim is verified (no claim store) with ``image_patch`` among ``[integrity].checks``; the
statistics of each examined value are recorded as the check computes them. Claims are the folders
holding a claim.json under the given roots; a claim whose expected.json names a ``photo_pasted_*``
tamper counts as pasted, one labelled approve as genuine, and so does a real document's claim made by
``$REALWORLD/make_claims.py`` whose expected checks all pass (others are left out).

    .venv/bin/python bench/measure_patches.py /tmp/lab /tmp/tampered --out /tmp/patch-stats.jsonl --workers 2 \
        --drop-checks-cache      # with a read cache of one's own: kept checks are not measured again
    .venv/bin/python bench/measure_patches.py --stats /tmp/patch-stats.jsonl      # the rates again, no verifying
    .venv/bin/python bench/measure_patches.py sample_invoices --any-label --out /tmp/samples.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from multiprocessing import get_context
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _label(folder: Path) -> str | None:
    if os.environ.get("MEASURE_PATCHES_ANY_LABEL"):  # --any-label: every claim without a paste is genuine
        exp = json.loads((folder / "expected.json").read_text()) if (folder / "expected.json").is_file() else {}
        return "pasted" if str(exp.get("tamper", "")).startswith("photo_pasted") else "genuine"
    try:
        exp = json.loads((folder / "expected.json").read_text())
    except (OSError, ValueError):
        return None
    if str(exp.get("tamper", "")).startswith("photo_pasted"):
        return "pasted"
    if "decision" not in exp and exp.get("checks") and set(exp["checks"].values()) == {"pass"}:
        return "genuine"  # a real document's claim ($REALWORLD/make_claims.py): every check it names passes
    return "genuine" if exp.get("decision") == "approve" and not exp.get("tamper") else None


def _measure(folder: str) -> dict:
    from pipeline.config import load_config
    from pipeline.integrity import patches
    from pipeline.verify import verify_claim

    config = load_config()
    wanted = list(config.integrity.checks)
    if "image_patch" not in wanted:
        wanted.append("image_patch")
    config = config.model_copy(update={"integrity": config.integrity.model_copy(update={"checks": wanted})})
    seen, extra = [], []
    original = patches.patch_stats

    def recording(grey, box, words, **kw):
        started = time.perf_counter()
        s = original(grey, box, words, **kw)
        took = time.perf_counter() - started
        if repeat[0]:
            return s
        again = time.perf_counter()
        full = original(grey, box, words, **{**kw, "measure_all": True})  # every statistic, for the record
        extra.append(time.perf_counter() - again)
        seen.append({**full.to_dict(), "ms": round(1000 * took, 2)})
        return s

    measured = []
    measure = patches.patch_measurements

    repeat = [0]

    def timed(*args, **kw):
        # the check's cost: the fastest of three runs (a machine shared by other jobs stops a process
        # for tens of milliseconds at a time), without the extra statistics recorded above
        times = []
        for repeat[0] in range(3):
            started = time.perf_counter()
            out = measure(*args, **kw)
            times.append(time.perf_counter() - started)
        times[0] -= sum(extra)
        measured.append(1000 * min(times))
        repeat[0] = 0
        return out

    patches.patch_stats, patches.patch_measurements = recording, timed
    started = time.perf_counter()
    try:
        d = verify_claim(folder, config, store=None).to_dict()
    finally:
        patches.patch_stats, patches.patch_measurements = original, measure
    check = next((c for c in d["checks"] if c["name"] == "image_patch"), None)
    exp = json.loads((Path(folder) / "expected.json").read_text())
    return {"folder": folder, "label": _label(Path(folder)), "how": exp.get("how"), "tamper": exp.get("tamper"),
            "form": exp.get("invoice_form") or exp.get("form"), "values": seen, "decision": d["decision"],
            "check": check and {k: check.get(k) for k in ("status", "reason", "detail", "evidence")},
            "ms": round(1000 * (time.perf_counter() - started)),
            "check_ms": round(sum(measured), 2) if measured else None}


def _rates(rows: list[dict], kb) -> None:
    from pipeline.integrity.patches import PatchStats, patch_findings

    def flagged(r):
        found = []
        for v in r["values"]:
            v = {k: v[k] for k in PatchStats.__dataclass_fields__}
            s = PatchStats(**{**v, "box": tuple(v["box"])})
            found += patch_findings(s, kb)
        return found

    for label in ("genuine", "pasted"):
        group = [r for r in rows if r["label"] == label]
        examined = [r for r in group if r["values"]]
        hits = [r for r in examined if flagged(r)]
        what = {}
        for r in hits:
            for f in flagged(r):
                key = f.split(" ")[0] + (" " + f.split(" ")[1] if f.startswith("text") or f.startswith("JPEG") else "")
                what[key] = what.get(key, 0) + 1
        print(f"{label:8s} claims {len(group):4d}, examined {len(examined):4d}, flagged {len(hits):4d} "
              f"({100 * len(hits) / max(1, len(examined)):.1f} % of examined, "
              f"{100 * len(hits) / max(1, len(group)):.1f} % of all): {what}")
        if label == "pasted":
            for key in ("background", "saved", "patch_jpeg"):
                by = {}
                for r in group:
                    k = str((r.get("how") or {}).get(key))
                    by.setdefault(k, [0, 0])
                    by[k][0] += 1
                    by[k][1] += bool(r["values"] and flagged(r))
                print(f"   by {key}: " + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(by.items())))
    ms = sorted(v["ms"] for r in rows for v in r["values"])
    if ms:
        print(f"patch_stats per value: median {ms[len(ms) // 2]:.1f} ms, p90 {ms[int(len(ms) * 0.9)]:.1f} ms "
              f"({len(ms)} values)")
    claim_ms = sorted(r["check_ms"] for r in rows if r.get("check_ms") is not None and r["values"])
    if claim_ms:
        print(f"image_patch per examined claim (decoding the page included, fastest of 3 runs): median "
              f"{claim_ms[len(claim_ms) // 2]:.1f} ms, p90 {claim_ms[int(len(claim_ms) * 0.9)]:.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("roots", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=Path("out/patch-stats.jsonl"))
    ap.add_argument("--stats", type=Path, help="report the rates of recorded statistics (no verifying)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--drop-checks-cache", action="store_true",
                    help="delete the read cache's kept checks first (else a claim whose checks are kept "
                         "is not measured again: nothing is computed)")
    ap.add_argument("--any-label", action="store_true",
                    help="count every claim without a pasted value as genuine (sample_invoices: its wrong dates "
                         "and retailers are genuine documents)")
    args = ap.parse_args()
    if args.any_label:
        os.environ["MEASURE_PATCHES_ANY_LABEL"] = "1"  # inherited by the spawned workers
    if args.drop_checks_cache:
        import shutil

        from pipeline.cache import default_cache_dir

        shutil.rmtree(default_cache_dir() / "checks", ignore_errors=True)
    from pipeline.integrity.knowledge import default_integrity

    if args.stats:
        rows = [json.loads(line) for line in args.stats.read_text().splitlines() if line.strip()]
    else:
        folders = sorted(str(p.parent) for root in args.roots for p in root.rglob("claim.json")
                         if _label(p.parent))
        print(f"{len(folders)} claims", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        with get_context("spawn").Pool(args.workers) as pool, args.out.open("w") as fh:
            for row in pool.imap_unordered(_measure, folders, chunksize=1):
                rows.append(row)
                fh.write(json.dumps(row) + "\n")
                fh.flush()
    _rates(rows, default_integrity().patch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
