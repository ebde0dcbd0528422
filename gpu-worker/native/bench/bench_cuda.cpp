// CUDA engine benchmark (not a test; needs a GPU): a random-weight bf16 model of
// DeepSeek-R1-Distill-Qwen-1.5B shape on the CUDA backend, through the real Engine (scheduler +
// host sampler). Reports single-stream decode tokens/s, time to first token, output tokens/s with
// N concurrent sequences (prompt P, output O), and the HBM roofline from a measured device copy.
// Output: "key value" lines (machine-readable) after a human summary, see bench/engine-gpu.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "cuda/cuda_check.cuh"
#include "cuda/device_buffer.cuh"
#include "engine/engine.h"
#include "loader/model_config.h"
#include "loader/tensor_source.h"

using namespace dse;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
uint64_t next_rand() {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

std::vector<uint8_t> random_bf16(int64_t n) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * 2);
  auto* p = reinterpret_cast<uint16_t*>(bytes.data());
  for (int64_t i = 0; i < n; i += 4) {
    uint64_t r = next_rand();
    for (int k = 0; k < 4 && i + k < n; ++k, r >>= 16) {
      uint16_t sign = (r & 1) << 15, exp = 117 + ((r >> 1) & 3), mant = (r >> 3) & 0x7f;
      p[i + k] = sign | static_cast<uint16_t>(exp << 7) | mant;
    }
  }
  return bytes;
}

std::vector<uint8_t> constant_f32(int64_t n, float v) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) std::memcpy(bytes.data() + 4 * i, &v, 4);
  return bytes;
}

// Device-to-device copy bandwidth (bytes read + written per second), best of 5 over 2 GiB.
double hbm_bandwidth() {
  const size_t n = size_t(1) << 30;
  cuda::DeviceBuffer<unsigned char> a(n), b(n);
  CUDA_CHECK(cudaMemset(a.get(), 1, n));
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    CUDA_CHECK(cudaDeviceSynchronize());
    auto t0 = Clock::now();
    CUDA_CHECK(cudaMemcpy(b.get(), a.get(), n, cudaMemcpyDeviceToDevice));
    CUDA_CHECK(cudaDeviceSynchronize());
    best = std::max(best, 2.0 * n / seconds_since(t0));
  }
  return best;
}

struct RunStats {
  double output_tps = 0, mean_ttft = 0, wall = 0;
  int tokens = 0;
};

// Starts n sequences at once (prompt P random tokens, O output tokens each) and runs to completion.
RunStats run_concurrent(Engine& e, int n, int P, int O, int V) {
  SamplingParams sp;
  sp.max_tokens = O;
  std::map<int, Clock::time_point> first;
  std::map<int, bool> seen;
  auto t0 = Clock::now();
  for (int s = 0; s < n; ++s) {
    std::vector<int> prompt(static_cast<size_t>(P));
    for (auto& t : prompt) t = static_cast<int>(next_rand() % V);
    seen[e.start(prompt, sp)] = false;
  }
  RunStats r;
  double ttft_sum = 0;
  while (e.active() > 0) {
    for (auto& ev : e.step()) {
      if (ev.token < 0) continue;
      ++r.tokens;
      if (!seen[ev.seq_id]) {
        seen[ev.seq_id] = true;
        ttft_sum += seconds_since(t0);
      }
    }
  }
  r.wall = seconds_since(t0);
  r.output_tps = r.tokens / r.wall;
  r.mean_ttft = ttft_sum / n;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 28, prompt = 512, output = 256, decode = 128;
  std::vector<int> concurrency = {64, 256};
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (k == "--layers") layers = val();
    else if (k == "--prompt") prompt = val();
    else if (k == "--output") output = val();
    else if (k == "--decode") decode = val();
    else if (k == "--concurrency") concurrency = {val()};
    else {
      std::fprintf(stderr, "usage: %s [--layers N] [--prompt N] [--output N] [--decode N] [--concurrency N]\n", argv[0]);
      return 2;
    }
  }
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    std::printf("skipped: no CUDA device\n");
    return 0;
  }
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  const char* config_json = R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":1536,"intermediate_size":8960,
    "num_hidden_layers":28,"num_attention_heads":12,"num_key_value_heads":2,"vocab_size":151936,
    "max_position_embeddings":131072,"rms_norm_eps":1e-6,"rope_theta":10000,"tie_word_embeddings":false,
    "bos_token_id":151646,"eos_token_id":151643})";
  ModelConfig cfg = parse_model_config(config_json, "bench");
  cfg.num_layers = layers;
  cfg.eos_token_ids.clear();  // random weights: never stop early
  cfg.max_position = prompt + output + 16;  // sizes the per-sequence block tables
  const int64_t H = cfg.hidden_size, I = cfg.intermediate_size, V = cfg.vocab_size;
  const int64_t hd = cfg.head_dim, qd = cfg.num_heads * hd, kvd = cfg.num_kv_heads * hd;
  auto src = std::make_unique<MemorySource>();
  auto add = [&](const std::string& name, int64_t r, int64_t c) { src->add(name, DType::kBF16, {r, c}, random_bf16(r * c)); };
  add("model.embed_tokens.weight", V, H);
  add("lm_head.weight", V, H);
  src->add("model.norm.weight", DType::kF32, {H}, constant_f32(H, 1.f));
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    src->add(p + "input_layernorm.weight", DType::kF32, {H}, constant_f32(H, 1.f));
    src->add(p + "post_attention_layernorm.weight", DType::kF32, {H}, constant_f32(H, 1.f));
    add(p + "self_attn.q_proj.weight", qd, H);
    add(p + "self_attn.k_proj.weight", kvd, H);
    add(p + "self_attn.v_proj.weight", kvd, H);
    add(p + "self_attn.o_proj.weight", H, qd);
    src->add(p + "self_attn.q_proj.bias", DType::kF32, {qd}, constant_f32(qd, 0.01f));
    src->add(p + "self_attn.k_proj.bias", DType::kF32, {kvd}, constant_f32(kvd, 0.01f));
    src->add(p + "self_attn.v_proj.bias", DType::kF32, {kvd}, constant_f32(kvd, 0.01f));
    add(p + "mlp.gate_proj.weight", I, H);
    add(p + "mlp.up_proj.weight", I, H);
    add(p + "mlp.down_proj.weight", H, I);
  }
  int maxc = 1;
  for (int c : concurrency) maxc = std::max(maxc, c);
  EngineOptions eo;
  eo.backend = "cuda:0";
  eo.max_sequences = maxc;
  eo.max_context = prompt + output + 8;
  Engine engine(std::move(src), cfg, eo);
  const double wbytes = static_cast<double>(engine.weight_bytes());
  const double per_token = wbytes - double(V * H * 2);  // the embedding table is read one row per token
  const double bw = hbm_bandwidth();
  const double kv_per_token = 2.0 * kvd * 4 * layers;  // fp32 K and V, every layer

  std::printf("engine-gpu bench: %s, R1-Distill-Qwen-1.5B shape, %d layers, bf16 random weights\n", prop.name, layers);
  std::printf("weights %.2f GB (%.2f GB read per decode step), HBM copy bandwidth %.0f GB/s\n", wbytes / 1e9,
              per_token / 1e9, bw / 1e9);

  // Single stream: TTFT of a P-token prompt, then `decode` tokens.
  SamplingParams sp;
  sp.max_tokens = decode + 1;
  std::vector<int> p1(static_cast<size_t>(prompt));
  for (auto& t : p1) t = static_cast<int>(next_rand() % V);
  engine.start(p1, sp);
  auto tf = Clock::now();
  while (engine.step().empty()) {
  }
  const double ttft = seconds_since(tf);
  int decoded = 0;
  auto td = Clock::now();
  while (engine.active() > 0)
    for (auto& ev : engine.step()) decoded += ev.token >= 0;
  const double decode_tps = decoded / seconds_since(td);
  const double ctx = prompt + decode / 2.0;
  const double roof1 = bw / (per_token + ctx * kv_per_token);
  std::printf("single stream: TTFT %.1f ms (prompt %d), decode %.1f tok/s, roofline %.0f tok/s (%.0f%%)\n",
              ttft * 1e3, prompt, decode_tps, roof1, 100 * decode_tps / roof1);
  std::printf("result single_decode_tps %.2f\nresult single_ttft_ms %.2f\nresult single_roofline_tps %.1f\n",
              decode_tps, ttft * 1e3, roof1);
  for (int c : concurrency) {
    RunStats r = run_concurrent(engine, c, prompt, output, static_cast<int>(V));
    // Decode-phase roofline: per step, weights once plus every sequence's KV at mean context.
    const double roof = c * bw / (per_token + c * (prompt + output / 2.0) * kv_per_token);
    std::printf("concurrency %d: %d tokens in %.2f s = %.0f output tok/s, mean TTFT %.0f ms, decode roofline %.0f tok/s\n",
                c, r.tokens, r.wall, r.output_tps, r.mean_ttft * 1e3, roof);
    std::printf("result c%d_output_tps %.1f\nresult c%d_mean_ttft_ms %.1f\nresult c%d_roofline_tps %.0f\n", c,
                r.output_tps, c, r.mean_ttft * 1e3, c, roof);
  }
  std::printf("deepseek-v2-lite shape: not run (MLA/MoE are not on the CUDA backend yet)\n");
  return 0;
}
