#!/bin/sh
# The README's nightly example, run for real: two nights of lab traces (real SIPp/kamailio
# captures from captures/), the second with a regression, a corrupt file and an empty one.
# Prints the second night's summary exactly as README shows it (tests/batch/test_readme.py
# checks that README is current).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
n1=traces/2026-11-20
n2=traces/2026-11-21
mkdir -p "$n1/calls" "$n1/registrar" "$n2/calls" "$n2/registrar"
for c in udp4-answered udp4-busy udp4-cancel tcp4-answered udp4-no-answer; do
    cp "$ROOT/captures/$c.pcap" "$n1/calls/"
done
cp "$ROOT/captures/udp4-register-auth.pcap" "$n1/registrar/"
cp -R "$n1/." "$n2/"
# Night 2: the proxy now answers the basic call with 503, the no-answer scenario was
# dropped, an outbound registration scenario was added, one capture came out empty and
# one is not a capture at all.
cp "$ROOT/captures/udp4-unavailable-via-proxy.pcap" "$n2/calls/udp4-answered.pcap"
rm "$n2/calls/udp4-no-answer.pcap"
cp "$ROOT/captures/udp4-outbound-439.pcap" "$n2/registrar/"
: > "$n2/calls/tcp4-answered.pcap"
head -c 2048 "$ROOT/README.md" > "$n2/registrar/udp4-register-auth.pcap"
export NO_COLOR=1 COLUMNS=120
"$PY" -m analyzer batch "$n1" --out reports/2026-11-20 --format html,junit 2>/dev/null >/dev/null
echo '$ sip-analyzer batch traces/2026-11-21 --out reports/2026-11-21 --format html,junit \'
echo '      --baseline reports/2026-11-20/batch.json \'
echo "      --fail-on 'ser<95' --fail-on new-finding --fail-on worse --fail-on 'any:calls:no_response>0'"
code=0
"$PY" -m analyzer batch "$n2" --out reports/2026-11-21 --format html,junit \
    --baseline reports/2026-11-20/batch.json \
    --fail-on 'ser<95' --fail-on new-finding --fail-on worse --fail-on 'any:calls:no_response>0' \
    2>/dev/null || code=$?
echo "\$ echo \$?"
echo "$code"
