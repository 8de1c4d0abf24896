#!/usr/bin/env bash
# Install the system packages claimcheck needs, only those missing (idempotent).
# Tesseract with the languages of the promotions' territories, zbar for pyzbar,
# poppler-utils for make_claims.py's pdftotext, Chromium for the browser tests.
set -euo pipefail
PACKAGES=(
  tesseract-ocr tesseract-ocr-osd
  tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-nor tesseract-ocr-ind
  tesseract-ocr-msa tesseract-ocr-nld tesseract-ocr-ita tesseract-ocr-spa tesseract-ocr-pol
  tesseract-ocr-ces tesseract-ocr-swe tesseract-ocr-dan tesseract-ocr-fin tesseract-ocr-por
  tesseract-ocr-tur
  libzbar0 poppler-utils
  chromium
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "system packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
