#!/usr/bin/env bash
# The main job on the bundled sample claims: verify every claim, then compare with the labels.
set -euo pipefail
OUT=${1:-out}
mkdir -p "$OUT"
.venv/bin/claimcheck batch sample_invoices --out "$OUT/demo.jsonl" --force
.venv/bin/claimcheck barcodes sample_invoices/demo-*/sticker.* > "$OUT/demo-barcodes.jsonl"
echo "barcodes on the sample stickers:" >&2
cat "$OUT/demo-barcodes.jsonl" >&2
.venv/bin/python scripts/demo_summary.py "$OUT/demo.jsonl" sample_invoices
