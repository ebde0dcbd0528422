// CUDA engine benchmark (not a test; needs a GPU): a random-weight bf16 model of
// DeepSeek-R1-Distill-Qwen-1.5B shape on the CUDA backend, through the real Engine (scheduler +
// host sampler). Reports single-stream decode tokens/s, time to first token, output tokens/s with
// N concurrent sequences (prompt P, output O), and the HBM roofline from a measured device copy.
// Output: "key value" lines (machine-readable) after a human summary, see bench/engine-gpu.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
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

// Expected bytes of weights one decode step reads with B sequences: everything but the embedding
// table, except that of E routed experts (top-k each) only the distinct experts hit are read.
double step_weight_bytes(const ModelConfig& c, double total, int B) {
  const double H = c.hidden_size, V = c.vocab_size;
  double bytes = total - V * H * 2;
  if (c.n_routed_experts > 0) {
    const double E = c.n_routed_experts, K = c.experts_per_token;
    int moe_layers = 0;
    for (int l = 0; l < c.num_layers; ++l) moe_layers += c.is_moe_layer(l);
    const double expert = 3.0 * H * c.moe_intermediate_size * 2;
    const double hit = E * (1 - std::pow(1 - K / E, B));
    bytes -= moe_layers * (E - hit) * expert;
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 0, prompt = 512, output = 256, decode = 128;
  std::string model = "qwen1.5b";
  std::vector<int> concurrency = {64, 256};
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (k == "--layers") layers = val();
    else if (k == "--prompt") prompt = val();
    else if (k == "--output") output = val();
    else if (k == "--decode") decode = val();
    else if (k == "--concurrency") concurrency = {val()};
    else if (k == "--model" && i + 1 < argc) model = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--model qwen1.5b|v2-lite] [--layers N] [--prompt N] [--output N] [--decode N] "
                   "[--concurrency N]\n", argv[0]);
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
  const bool v2 = model == "v2-lite";
  // DeepSeek-R1-Distill-Qwen-1.5B (Qwen2, untied lm_head, q/k/v bias) or DeepSeek-V2-Lite (MLA
  // without q_lora, 64 routed experts top-6 + 2 shared, first layer dense).
  const char* config_json = v2 ? R"({"architectures":["DeepseekV2ForCausalLM"],"hidden_size":2048,
    "intermediate_size":10944,"num_hidden_layers":27,"num_attention_heads":16,"num_key_value_heads":16,
    "vocab_size":102400,"max_position_embeddings":163840,"rms_norm_eps":1e-6,"kv_lora_rank":512,"q_lora_rank":null,
    "qk_nope_head_dim":128,"qk_rope_head_dim":64,"v_head_dim":128,"moe_intermediate_size":1408,
    "n_routed_experts":64,"n_shared_experts":2,"num_experts_per_tok":6,"first_k_dense_replace":1,"moe_layer_freq":1,
    "n_group":1,"topk_group":1,"topk_method":"greedy","scoring_func":"softmax","norm_topk_prob":false,
    "routed_scaling_factor":1.0,"tie_word_embeddings":false,"bos_token_id":100000,"eos_token_id":100001,
    "rope_theta":10000,"rope_scaling":{"type":"yarn","factor":40,"original_max_position_embeddings":4096,
    "beta_fast":32,"beta_slow":1,"mscale":0.707,"mscale_all_dim":0.707}})"
                                 : R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":1536,"intermediate_size":8960,
    "num_hidden_layers":28,"num_attention_heads":12,"num_key_value_heads":2,"vocab_size":151936,
    "max_position_embeddings":131072,"rms_norm_eps":1e-6,"rope_theta":10000,"tie_word_embeddings":false,
    "bos_token_id":151646,"eos_token_id":151643})";
  ModelConfig cfg = parse_model_config(config_json, "bench");
  if (layers > 0) cfg.num_layers = layers;
  layers = cfg.num_layers;
  cfg.eos_token_ids.clear();  // random weights: never stop early
  cfg.max_position = prompt + output + 16;  // sizes the per-sequence block tables
  const int64_t H = cfg.hidden_size, I = cfg.intermediate_size, V = cfg.vocab_size;
  auto src = std::make_unique<MemorySource>();
  auto add = [&](const std::string& name, int64_t r, int64_t c) { src->add(name, DType::kBF16, {r, c}, random_bf16(r * c)); };
  auto norm = [&](const std::string& name, int64_t n) { src->add(name, DType::kF32, {n}, constant_f32(n, 1.f)); };
  auto mlp = [&](const std::string& p, int64_t inter) {
    add(p + "gate_proj.weight", inter, H);
    add(p + "up_proj.weight", inter, H);
    add(p + "down_proj.weight", H, inter);
  };
  add("model.embed_tokens.weight", V, H);
  add("lm_head.weight", V, H);
  norm("model.norm.weight", H);
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    norm(p + "input_layernorm.weight", H);
    norm(p + "post_attention_layernorm.weight", H);
    if (v2) {
      const int64_t nh = cfg.num_heads, R = cfg.kv_lora_rank, P = cfg.qk_rope_dim;
      add(p + "self_attn.q_proj.weight", nh * cfg.qk_head_dim(), H);
      add(p + "self_attn.kv_a_proj_with_mqa.weight", R + P, H);
      norm(p + "self_attn.kv_a_layernorm.weight", R);
      add(p + "self_attn.kv_b_proj.weight", nh * (cfg.qk_nope_dim + cfg.v_head_dim), R);
      add(p + "self_attn.o_proj.weight", H, nh * cfg.v_head_dim);
      if (cfg.is_moe_layer(l)) {
        add(p + "mlp.gate.weight", cfg.n_routed_experts, H);
        for (int e = 0; e < cfg.n_routed_experts; ++e)
          mlp(p + "mlp.experts." + std::to_string(e) + ".", cfg.moe_intermediate_size);
        mlp(p + "mlp.shared_experts.", int64_t(cfg.moe_intermediate_size) * cfg.n_shared_experts);
      } else {
        mlp(p + "mlp.", I);
      }
    } else {
      const int64_t hd = cfg.head_dim, qd = cfg.num_heads * hd, kvd = cfg.num_kv_heads * hd;
      add(p + "self_attn.q_proj.weight", qd, H);
      add(p + "self_attn.k_proj.weight", kvd, H);
      add(p + "self_attn.v_proj.weight", kvd, H);
      add(p + "self_attn.o_proj.weight", H, qd);
      src->add(p + "self_attn.q_proj.bias", DType::kF32, {qd}, constant_f32(qd, 0.01f));
      src->add(p + "self_attn.k_proj.bias", DType::kF32, {kvd}, constant_f32(kvd, 0.01f));
      src->add(p + "self_attn.v_proj.bias", DType::kF32, {kvd}, constant_f32(kvd, 0.01f));
      mlp(p + "mlp.", I);
    }
  }
  int maxc = 1;
  for (int c : concurrency) maxc = std::max(maxc, c);
  EngineOptions eo;
  eo.backend = "cuda:0";
  eo.max_sequences = maxc;
  eo.max_context = prompt + output + 8;
  Engine engine(std::move(src), cfg, eo);
  const double wbytes = static_cast<double>(engine.weight_bytes());
  const double bw = hbm_bandwidth();
  const double kv_width = v2 ? double(cfg.kv_lora_rank + cfg.qk_rope_dim) : 2.0 * cfg.num_kv_heads * cfg.head_dim;
  const double kv_per_token = kv_width * 4 * layers;  // fp32 cache rows, every layer

  std::printf("engine-gpu bench: %s, %s shape, %d layers, bf16 random weights\n", prop.name,
              v2 ? "DeepSeek-V2-Lite" : "R1-Distill-Qwen-1.5B", layers);
  std::printf("weights %.2f GB (%.2f GB read per single-stream decode step), HBM copy bandwidth %.0f GB/s\n",
              wbytes / 1e9, step_weight_bytes(cfg, wbytes, 1) / 1e9, bw / 1e9);

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
  const double roof1 = bw / (step_weight_bytes(cfg, wbytes, 1) + (prompt + decode / 2.0) * kv_per_token);
  std::printf("single stream: TTFT %.1f ms (prompt %d), decode %.1f tok/s, roofline %.0f tok/s (%.0f%%)\n",
              ttft * 1e3, prompt, decode_tps, roof1, 100 * decode_tps / roof1);
  std::printf("result single_decode_tps %.2f\nresult single_ttft_ms %.2f\nresult single_roofline_tps %.1f\n",
              decode_tps, ttft * 1e3, roof1);
  for (int c : concurrency) {
    RunStats r = run_concurrent(engine, c, prompt, output, static_cast<int>(V));
    // Decode-phase roofline: per step, the weights hit once plus every sequence's KV at mean context.
    const double roof = c * bw / (step_weight_bytes(cfg, wbytes, c) + c * (prompt + output / 2.0) * kv_per_token);
    std::printf("concurrency %d: %d tokens in %.2f s = %.0f output tok/s, mean TTFT %.0f ms, decode roofline %.0f tok/s\n",
                c, r.tokens, r.wall, r.output_tps, r.mean_ttft * 1e3, roof);
    std::printf("result c%d_output_tps %.1f\nresult c%d_mean_ttft_ms %.1f\nresult c%d_roofline_tps %.0f\n", c,
                r.output_tps, c, r.mean_ttft * 1e3, c, roof);
  }
  return 0;
}
