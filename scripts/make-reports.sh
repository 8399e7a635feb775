#!/bin/sh
# Regenerate the example reports in reports/ from the demo capture (tests/report/test_examples.py
# checks they are current).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
run() { "$PY" -m analyzer analyze captures/demo.pcapng --lang en "$@"; }
NO_COLOR=1 run --width 110 -o reports/demo.txt
run --format json -o reports/demo.json
run --format markdown -o reports/demo.md
run --format html -o reports/demo.html
run --format junit -o reports/demo.junit.xml
rm -rf reports/demo-csv reports/demo-parquet
run --format csv -o reports/demo-csv
run --format parquet -o reports/demo-parquet
run --format markdown --calls failed --redact-identities -o reports/ticket-failed.md
"$PY" -m analyzer compare 200 439 --lang ru --format markdown -o reports/compare-200-439.ru.md
