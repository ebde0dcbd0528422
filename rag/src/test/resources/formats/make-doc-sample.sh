#!/usr/bin/env bash
# Regenerates winch-guide.doc, the Word 97-2003 sample of the format tests, from winch-guide.html.
# POI writes no .doc from scratch, so LibreOffice converts it (Debian: apt-get install
# --no-install-recommends libreoffice-writer-nogui). Not run by the build: its output is committed.
set -euo pipefail
cd "$(dirname "$0")"
soffice --headless --convert-to 'doc:MS Word 97' winch-guide.html
