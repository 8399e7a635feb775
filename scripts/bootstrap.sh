#!/bin/sh
# Set up this checkout on a Debian machine that has only python3.
#   sh scripts/bootstrap.sh          -> .venv with sip-analyzer installed
#   sh scripts/bootstrap.sh --test   -> also the test tools, tshark, SIPp, kamailio, tcpdump
# Debian packages need root: run as root, or have sudo.
set -eu
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Debian splits venv/ensurepip out of python3.
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install python3-venv python3-pip
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

if [ "${1:-}" = "--test" ]; then
    # tshark is the reference dissector; SIPp, kamailio and tcpdump make live lab captures.
    need=""
    # chromium renders the HTML report in tests (headless, no network).
    for cmd in tshark:tshark sipp:sip-tester kamailio:kamailio tcpdump:tcpdump editcap:wireshark-common chromium:chromium; do
        command -v "${cmd%%:*}" >/dev/null 2>&1 || need="$need ${cmd#*:}"
    done
    [ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/outbound.so ] || need="$need kamailio-outbound-modules"
    [ -z "$need" ] || apt_install $need kamailio-outbound-modules
    .venv/bin/python -m pip install -q -e '.[test]'
else
    .venv/bin/python -m pip install -q .
fi
