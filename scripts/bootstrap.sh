#!/usr/bin/env bash
# Installs everything ragline needs on a fresh Debian machine, and nothing twice
# on a warm one: system packages (OCR, PDF rasterising, LibreOffice for .doc/.ppt),
# then a virtual environment under the repo (.venv) with the project in it.
#
# Order matters (see ENVIRONMENT.md): torch's CPU wheel goes in first and alone,
# unstructured-inference without its dependencies (its [pdf] extra would pull in
# torchvision, which breaks transformers).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${RAGLINE_VENV:-.venv}"

# redis-server: the distributed-mode tests run a standalone worker on a real broker
# (they start it when nothing answers on 127.0.0.1:6379).
# tesseract-ocr-rus: the OCR language tests read a Cyrillic page (RAGLINE_INGEST__OCR_LANGUAGES).
# wamerican: /usr/share/dict/words, which rejoins words a PDF or a scan hyphenated at a line end.
apt_packages=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-rus wamerican poppler-utils libmagic1
              libreoffice-writer-nogui libreoffice-impress-nogui redis-server
              prometheus   # promtool checks infra/prometheus/alerts.yml in the tests
              chromium)    # the web console's Playwright tests run it headless
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.ragline-install-stamp"
want="$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing Python packages into $VENV (first run: a few minutes)"
  "$VENV/bin/pip" install -q -U pip
  "$VENV/bin/pip" install -q torch==2.13.0
  "$VENV/bin/pip" install -q -e ".[dev]"
  "$VENV/bin/pip" install -q --no-deps unstructured-inference==1.6.14
  echo "$want" > "$stamp"
fi
# The ONNX export of the embedding model (retrieval.onnx_export), made from the shipped
# weights and checked against torch; a no-op when one exists for these weights. Without
# it (or if it fails its check) every process embeds with torch, only slower.
echo "==> preparing the ONNX embedding model"
"$VENV/bin/ragline" models prepare || echo "warning: no ONNX embedding model; torch will embed"
echo "==> environment ready: $VENV"
