#!/usr/bin/env bash
# AMX check, for a host whose CPU has AMX (Intel Xeon, Sapphire Rapids or later; the GPU hosts the
# project borrows often are), with cmake and g++ (no Java, no CUDA needed). From the repository root:
#   bash gpu-worker/native/ops/amx-check.sh
# Prints the CPU's AMX / AVX-512 flags, builds the native core (Release, CUDA off), runs the AMX
# ctest cases (test_amx: the instruction model; test_amx_hw: the kernels on the tiles, "skipped"
# without AMX; test_kernels: every level against the reference, kAmx included) and the engine bench:
# the kernels alone (--kernels: bf16 / int8 at T=1 and T=128, every level) and the prefill of a
# PROMPT-token prompt (default 512) on LAYERS layers (default 4) with DSE_SIMD=avx512dot and =amx
# alternated, bf16 and int8, ROUNDS pairs each (default 2). Logs and summary.txt go to $OUT (default
# gpu-worker/native/build-amx/out). Estimated 3-6 minutes on 16 cores (not yet timed there). Exit status: ctest's.
set -uo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${OUT:-$root/gpu-worker/native/build-amx/out}"
build="${BUILD:-$root/gpu-worker/native/build-amx/build}"
layers="${LAYERS:-4}" prompt="${PROMPT:-512}" rounds="${ROUNDS:-2}"
mkdir -p "$out" "$build"
say() { echo "$@" | tee -a "$out/summary.txt"; }
: >"$out/summary.txt"

say "# amx-check $(date -u +%Y-%m-%dT%H:%MZ) $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
say "kernel $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
lscpu >"$out/lscpu.txt" 2>&1
say "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
say "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(amx|avx512_bf16|avx512_vnni|avx512f$)' | sort | tr '\n' ' ')"

if ! cmake -S "$root/gpu-worker/native" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDSE_BUILD_JNI=OFF -DDSE_CUDA=OFF \
    >"$out/cmake.log" 2>&1 ||
  ! cmake --build "$build" -j "$(nproc)" --target test_amx test_amx_hw test_kernels dsengine_bench >>"$out/cmake.log" 2>&1; then
  say "BUILD FAILED (cmake.log):"
  tail -20 "$out/cmake.log" | tee -a "$out/summary.txt"
  exit 1
fi
say "compiler AMX flags: $(grep -o 'DSE_COMPILER_HAS_AMX:INTERNAL=.*' "$build/CMakeCache.txt")"

# The AMX cases; test_amx_hw's output names what it compared (and, for bf16, how often the tiles
# matched the model bit for bit: the model's guess at the SDM's order of the sums).
ctest --test-dir "$build" -R 'test_amx|test_kernels' --output-on-failure >"$out/ctest.log" 2>&1
ctest_rc=$?
grep -E 'tests passed|Test +#|skipped|Failed' "$out/ctest.log" | tee -a "$out/summary.txt"
"$build/tests/test_amx_hw" >"$out/test_amx_hw.log" 2>&1
say "test_amx_hw exit $? (0 passed, 77 skipped):"
tee -a "$out/summary.txt" <"$out/test_amx_hw.log"

say "== kernels (one thread, thread CPU time)"
timeout 300 "$build/dsengine_bench" --kernels >"$out/kernels.log" 2>&1
grep -vE '^$' "$out/kernels.log" | tee -a "$out/summary.txt"

say "== prefill, $prompt tokens, $layers layers, $(nproc) threads: avx512dot vs amx alternated, $rounds pairs"
for fmt in bf16 int8; do
  extra=()
  [ "$fmt" = int8 ] && extra=(--int8)
  for r in $(seq 1 "$rounds"); do
    for simd in avx512dot amx; do
      log="$out/prefill-$fmt-$simd-$r.log"
      DSE_SIMD=$simd timeout 240 "$build/dsengine_bench" --layers "$layers" --prompt "$prompt" --decode 4 "${extra[@]}" \
        >"$log" 2>&1
      say "$fmt $simd round $r: $(grep -m1 '^prefill:' "$log" || echo "FAILED, see $(basename "$log")") | SIMD $(sed -n 's/.*, SIMD \(.*\), bf16 decode reads.*/\1/p' "$log" | head -1) | $(grep -m1 '^amx:' "$log")"
    done
  done
done
say "results in $out (summary.txt, ctest.log, test_amx_hw.log, kernels.log, prefill-*.log, lscpu.txt)"
exit $ctest_rc
