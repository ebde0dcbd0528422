// The AMX level's entry points: its availability (amx_status: cpuid, XCR0 and the Linux permission
// request, once per process), the prefill threshold, and the kernels of amx_kernels.h on the
// hardware (matmul_amx.cpp) and on the instruction model (amx_model_kernels.cpp). matmul.cpp calls
// them for SimdLevel::kAmx; decode (T below amx_min_tokens()) stays on the VNNI / bf16-dot GEMVs.
#pragma once
#include <cstdint>

namespace dse {

// Whether this process may run tile instructions, and if not the first thing missing ("available",
// "no amx-tile in cpuid", ...). Decided once; the permission request is made at most once.
bool amx_available();
const char* amx_status();

// Prefill only: the AMX kernels take a matmul of at least this many tokens (default 16, one full A
// tile; DSE_AMX_MIN_TOKENS overrides); fewer stay on the avx512dot kernels.
int64_t amx_min_tokens();
void set_amx_min_tokens(int64_t tokens);

// Tests only: the AMX level on the instruction model (slow), where the CPU has the AVX-512 dot
// products, whether or not it has AMX: set_simd_level(kAmx) then runs the whole dispatch (row split,
// bias, groups) on AmxModel. Off by default.
void set_amx_emulation(bool on);
bool amx_emulation();

namespace detail {
// int8 weights in the VNNI panel layout, activations from quantize_q8_panels_x; rows [r0, r1) (r0 a
// multiple of 16), tokens [t0, t1) of y [T, rows]: the same arguments as matmul_q8_panels.
void matmul_q8_amx(const int8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t rows,
                   int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y);
void matmul_q8_amx_model(const int8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t rows,
                         int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y);
// bf16 weights (row-major) x activations from round_bf16_dot (xb: [T, cols]); rows [r0, r1), r0 a
// multiple of 16.
void matmul_bf16_amx(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                     int64_t t0, int64_t t1, float* y);
void matmul_bf16_amx_model(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0,
                           int64_t r1, int64_t t0, int64_t t1, float* y);// amx::pack_bf16_panel (amx_kernels.h) with AVX-512 16 x 16 dword transposes, the same bytes: what
// the hardware kernel packs with (in matmul_avx512dot.cpp: any CPU of the kAvx512Dot level runs it).
void pack_bf16_panel_avx512(const uint16_t* w, int64_t cols, int64_t o0, int64_t o1, uint16_t* out);

// Calls of the two model kernels so far (tests: the kAmx level did take the tile path).
int64_t amx_model_calls();

// The availability decision from what the CPU and the OS report, for amx_status and its test.
struct AmxProbe {
  bool osxsave = false;          // cpuid 1, ECX bit 27: xgetbv usable
  unsigned leaf7_edx = 0;        // cpuid 7.0 EDX: AMX-BF16 bit 22, AMX-TILE bit 24, AMX-INT8 bit 25
  unsigned long long xcr0 = 0;   // XTILECFG bit 17, XTILEDATA bit 18
  bool built = false;            // the compiler took -mamx-tile/-mamx-bf16/-mamx-int8
};
// request_permission: arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), returning 0 or an errno;
// called only when everything else is there. The reason is a static string or written to `buf`.
bool amx_decide(const AmxProbe& probe, int (*request_permission)(), char* buf, int buf_len, const char** reason);
}  // namespace detail

}  // namespace dse
