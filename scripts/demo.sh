#!/usr/bin/env bash
# The main job on the bundled sample claims: verify every claim (the Prefect evaluate flow, which
# runs the same orchestrator as `claimcheck verify`), compare with the labels, write the lab report.
set -euo pipefail
OUT=${1:-out}
mkdir -p "$OUT"
.venv/bin/claimcheck evaluate sample_invoices --out "$OUT/lab" > "$OUT/lab-summary.txt"
.venv/bin/claimcheck barcodes sample_invoices/demo-*/sticker.* > "$OUT/demo-barcodes.jsonl"
echo "barcodes on the hand-made sample stickers: $OUT/demo-barcodes.jsonl" >&2
.venv/bin/python scripts/demo_summary.py "$OUT/lab/results.jsonl" sample_invoices
echo
cat "$OUT/lab-summary.txt"
echo
echo "report: $OUT/lab/report.html (plots, per-check accuracy, cut-off sweep); metrics: $OUT/lab/metrics.json"
