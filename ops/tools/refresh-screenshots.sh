#!/usr/bin/env bash
# Refreshes the screenshots the docs show (docs/img/*.png referenced by docs/*.md and README.md) from
# the browser tests (BrowserE2ETest, admin-web/src/test/e2e/*.e2e.js), which save every screenshot under
# platform/launcher/target/e2e-screenshots. Needs /usr/bin/chromium and node (./dev test installs them).
# The tests' browsers are 1280x800 (phone shots 390 px wide); the copies are shrunk with pngquant (lossy,
# 256 colours, about a third of the size) or else optipng (lossless) when either is installed
# (apt-get install pngquant), and copied as they are otherwise.
#   ops/tools/refresh-screenshots.sh              run the browser tests, then copy
#   ops/tools/refresh-screenshots.sh --copy-only  copy what the last run left
set -euo pipefail
cd "$(dirname "$0")/../.."
shots=platform/launcher/target/e2e-screenshots

if [ "${1:-}" != "--copy-only" ]; then
  # the C++ engine is built for the bundled test model, its own tests are not run here
  mvn -B -pl platform/launcher -am test -Dtest=BrowserE2ETest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dnative.tests=OFF -Dnative.test.skip=true
fi

optimise() {
  if command -v pngquant >/dev/null; then
    pngquant --force --skip-if-larger --strip --quality 70-95 --output "$1" -- "$1" || true
  elif command -v optipng >/dev/null; then
    optipng -quiet -o2 -strip all "$1" || true
  fi
}
if ! command -v pngquant >/dev/null && ! command -v optipng >/dev/null; then
  echo "neither pngquant nor optipng is installed: screenshots are copied unoptimised (apt-get install pngquant)"
fi

copied=0
missing=()
for name in $(grep -ohE 'img/[A-Za-z0-9_-]+\.png' docs/*.md README.md | sed 's|^img/||' | sort -u); do
  if [ -f "$shots/$name" ]; then
    cp "$shots/$name" "docs/img/$name"
    optimise "docs/img/$name"
    copied=$((copied + 1))
  else
    missing+=("$name")
  fi
done
echo "copied $copied screenshot(s) into docs/img"
if [ ${#missing[@]} -gt 0 ]; then
  echo "not produced by this run (kept as they were): ${missing[*]}"
fi
