#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/device_util.cuh"
#include "cuda/matmul.cuh"

namespace dse::cuda {

namespace {

// One warp per output row o: the row is read once (16-byte loads of 8 bf16 where aligned) and dotted
// with every token of the batch; MAXT accumulators per lane, reduced across the warp at the end.
template <int MAXT>
__global__ void gemv_kernel(const uint16_t* __restrict__ w, int64_t rows, int64_t cols, const float* __restrict__ x,
                            int64_t ldx, int T, float* __restrict__ y, int64_t ldy, const float* __restrict__ bias,
                            bool accumulate, bool vec) {
  const int lane = threadIdx.x & 31;
  const int64_t o = blockIdx.x * int64_t(blockDim.x >> 5) + (threadIdx.x >> 5);
  if (o >= rows) return;
  const uint16_t* wr = w + o * cols;
  float acc[MAXT];
#pragma unroll
  for (int t = 0; t < MAXT; ++t) acc[t] = 0.f;
  int64_t done = 0;
  if (vec) {
    const int64_t n8 = cols / 8;
    for (int64_t c = lane; c < n8; c += 32) {
      const uint4 raw = reinterpret_cast<const uint4*>(wr)[c];
      const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
      float wf[8];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        wf[2 * j] = __uint_as_float(words[j] << 16);
        wf[2 * j + 1] = __uint_as_float(words[j] & 0xffff0000u);
      }
#pragma unroll
      for (int t = 0; t < MAXT; ++t) {
        if (t < T) {
          const float4* xv = reinterpret_cast<const float4*>(x + t * ldx + c * 8);
          const float4 a = xv[0], b = xv[1];
          acc[t] += wf[0] * a.x + wf[1] * a.y + wf[2] * a.z + wf[3] * a.w + wf[4] * b.x + wf[5] * b.y +
                    wf[6] * b.z + wf[7] * b.w;
        }
      }
    }
    done = n8 * 8;
  }
  for (int64_t c = done + lane; c < cols; c += 32) {
    const float wv = bf16_bits_to_f32(wr[c]);
#pragma unroll
    for (int t = 0; t < MAXT; ++t)
      if (t < T) acc[t] += wv * x[t * ldx + c];
  }
  const float b = bias ? bias[o] : 0.f;
#pragma unroll
  for (int t = 0; t < MAXT; ++t) {
    if (t >= T) break;
    const float s = warp_sum(acc[t]) + b;
    if (lane == 0) {
      float* dst = y + t * ldy + o;
      *dst = accumulate ? *dst + s : s;
    }
  }
}

// Tiled GEMM: a block computes a 64 (outputs) x 64 (tokens) tile of y, stepping over cols in 16-wide
// slices staged in shared memory as fp32; each of the 256 threads owns a 4x4 sub-tile.
constexpr int BM = 64, BN = 64, BK = 16;

__global__ void __launch_bounds__(256) gemm_kernel(const uint16_t* __restrict__ w, int64_t rows, int64_t cols,
                                                   const float* __restrict__ x, int64_t ldx, int64_t T,
                                                   float* __restrict__ y, int64_t ldy, const float* __restrict__ bias,
                                                   bool accumulate) {
  __shared__ float ws[BK][BM + 4];  // ws[k][o]
  __shared__ float xs[BK][BN + 4];  // xs[k][t]
  const int tid = threadIdx.x;
  const int64_t o0 = blockIdx.x * int64_t(BM), t0 = blockIdx.y * int64_t(BN);
  const int to = (tid % 16) * 4, tt = (tid / 16) * 4;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < cols; k0 += BK) {
    // 64 x 16 elements of each operand, 4 per thread; element e = tid + 256 * j -> (row e / 16, k e % 16).
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int e = tid + 256 * j, r = e / BK, k = e % BK;
      const int64_t go = o0 + r, gk = k0 + k, gt = t0 + r;
      ws[k][r] = (go < rows && gk < cols) ? bf16_bits_to_f32(w[go * cols + gk]) : 0.f;
      xs[k][r] = (gt < T && gk < cols) ? x[gt * ldx + gk] : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        a[i] = ws[k][to + i];
        b[i] = xs[k][tt + i];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t o = o0 + to + i;
    if (o >= rows) continue;
    const float b = bias ? bias[o] : 0.f;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t t = t0 + tt + j;
      if (t >= T) continue;
      float* dst = y + t * ldy + o;
      const float s = acc[i][j] + b;
      *dst = accumulate ? *dst + s : s;
    }
  }
}

}  // namespace

void matmul_bf16(const uint16_t* w, int64_t rows, int64_t cols, const float* x, int64_t ldx, int64_t T, float* y,
                 int64_t ldy, const float* bias, bool accumulate, cudaStream_t stream, MatmulPath path) {
  if (T <= 0 || rows <= 0) return;
  if (path == MatmulPath::kAuto) path = T <= kGemvMaxT ? MatmulPath::kGemv : MatmulPath::kTiled;
  if (path == MatmulPath::kGemv) {
    // 16-byte loads need 8-element rows and 16-byte aligned bases (weights come from cudaMalloc).
    const bool vec = cols % 8 == 0 && ldx % 4 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                     reinterpret_cast<uintptr_t>(w) % 16 == 0;
    const int warps = 8;
    for (int64_t t = 0; t < T; t += kGemvMaxT) {
      const int n = static_cast<int>(std::min<int64_t>(kGemvMaxT, T - t));
      gemv_kernel<kGemvMaxT><<<ceil_div(rows, warps), warps * 32, 0, stream>>>(
          w, rows, cols, x + t * ldx, ldx, n, y + t * ldy, ldy, bias, accumulate, vec);
      CUDA_CHECK_LAUNCH();
    }
    return;
  }
  for (int64_t t = 0; t < T; t += int64_t(BN) * 65535) {  // grid.y limit
    const int64_t n = std::min<int64_t>(T - t, int64_t(BN) * 65535);
    dim3 grid(ceil_div(rows, BM), ceil_div(n, BN));
    gemm_kernel<<<grid, 256, 0, stream>>>(w, rows, cols, x + t * ldx, ldx, n, y + t * ldy, ldy, bias, accumulate);
    CUDA_CHECK_LAUNCH();
  }
}

}  // namespace dse::cuda
