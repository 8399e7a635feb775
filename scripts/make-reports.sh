#!/bin/sh
# Regenerate the example reports in reports/ from the demo capture.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
NO_COLOR=1 "$PY" -m analyzer analyze captures/demo.pcapng --lang en --width 110 -o reports/demo.txt
"$PY" -m analyzer analyze captures/demo.pcapng --lang en --format json -o reports/demo.json
"$PY" -m analyzer compare 200 439 --lang ru --format markdown -o reports/compare-200-439.ru.md
