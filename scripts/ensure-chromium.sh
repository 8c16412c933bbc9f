#!/usr/bin/env bash
# ensure-chromium.sh — make headless Chromium available for the browser tests
# (test/browser) and print its path as the last (and only) line on stdout.
# Everything else goes to stderr. Idempotent; safe to run on every test run.
#
# Order of attempts:
#   1. $MEDIALUNA_CHROMIUM, if set and executable;
#   2. /usr/bin/chromium (Debian's package `chromium`), or `chromium` /
#      `chromium-browser` on PATH;
#   3. as root (directly or through `sudo -n`): install Debian's `chromium`
#      with apt-get, then print /usr/bin/chromium.
# Without root and without Chromium it prints nothing and exits 0 with a
# warning: the browser tests then skip themselves (or fail under CI=true).
# The browser tests never download a browser of their own.
set -euo pipefail

exec 3>&1 1>&2

log() { echo "ensure-chromium: $*"; }

found() {
  echo "$1" >&3
  exit 0
}

if [ -n "${MEDIALUNA_CHROMIUM:-}" ] && [ -x "$MEDIALUNA_CHROMIUM" ]; then
  found "$MEDIALUNA_CHROMIUM"
fi
for c in /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)" "$(command -v chromium-browser 2>/dev/null || true)"; do
  if [ -n "$c" ] && [ -x "$c" ]; then
    found "$c"
  fi
done

if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  log "warning: Chromium is not installed and installing it needs root; browser tests will skip (or fail under CI=true)"
  exit 0
fi

log "installing Debian's chromium (apt-get)"
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
if [ -x /usr/bin/chromium ]; then
  found /usr/bin/chromium
fi
log "error: apt-get installed chromium but /usr/bin/chromium is missing"
exit 1
