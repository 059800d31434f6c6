#!/usr/bin/env bash
# moto in server mode (AWS APIs on loopback) for tests and the demo: installs it if missing.
#   scripts/moto.sh PORT      runs in the foreground on 127.0.0.1:PORT
set -euo pipefail
port=${1:?port}
if ! command -v moto_server >/dev/null 2>&1; then
  echo "installing moto[server] with pip…" >&2
  python3 -m pip install --quiet 'moto[server]'
fi
exec moto_server -H 127.0.0.1 -p "$port"
