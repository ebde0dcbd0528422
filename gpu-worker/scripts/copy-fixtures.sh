#!/usr/bin/env bash
# Copies the reference tiny models (config.json, model.safetensors, golden.json) from the shared
# fixtures folder into this module's test resources, where ctest and JUnit read them.
# Usage: gpu-worker/scripts/copy-fixtures.sh [shared-fixtures-dir]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-$here/../../shared/fixtures}"
[ -d "$src/models" ] || src="/work/shared/fixtures"
dst="$here/src/test/resources/fixtures/models"
mkdir -p "$dst"
for m in tiny-deepseek-v3 tiny-deepseek-noqlora tiny-deepseek-v2-lite tiny-qwen2 tiny-llama; do
  mkdir -p "$dst/$m"
  for f in config.json generation_config.json model.safetensors golden.json; do
    [ -f "$src/models/$m/$f" ] && install -m 0644 "$src/models/$m/$f" "$dst/$m/$f"
  done
done
echo "copied fixtures from $src/models to $dst"
