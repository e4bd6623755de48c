#!/usr/bin/env bash
# Fresh machine to first answer: install, start the embedded service, ingest the
# sample documents through the API and answer a first question (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/ragline serve --demo "$@"
