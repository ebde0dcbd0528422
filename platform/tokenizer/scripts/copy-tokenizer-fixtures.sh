#!/usr/bin/env bash
# Copies the HF reference tokenizer fixtures into platform-tokenizer's test resources, so the tests run
# from the module alone. Source: $1, else $FIXTURES_DIR, else the shared fixtures folder next to
# the checkout (main checkout: ../shared, git worktree under wt/: ../../shared).
set -euo pipefail

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_root="$(cd "$module_dir/../.." && pwd)"

src="${1:-${FIXTURES_DIR:-}}"
if [[ -z "$src" ]]; then
  for candidate in "$repo_root/../shared/fixtures" "$repo_root/../../shared/fixtures"; do
    if [[ -d "$candidate/tokenizers" ]]; then src="$candidate"; break; fi
  done
fi
if [[ -z "$src" || ! -d "$src/tokenizers" ]]; then
  echo "no fixtures folder with tokenizers/ found; pass it as the first argument" >&2
  exit 1
fi

for model in deepseek-v3; do
  dest="$module_dir/src/test/resources/fixtures/tokenizers/$model"
  mkdir -p "$dest"
  for f in tokenizer.json tokenizer_config.json golden.json; do
    install -m 0644 "$src/tokenizers/$model/$f" "$dest/$f"
  done
  echo "copied $model from $src/tokenizers/$model"
done
