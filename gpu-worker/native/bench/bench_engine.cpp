// CPU engine benchmark (not a test): builds a random-weight bf16 model with the shape of
// DeepSeek-R1-Distill-Qwen-1.5B in memory, measures prefill and single-stream decode tokens/s
// through the real Engine (scheduler + sampler), and compares decode with the memory-bandwidth
// roofline measured on the same machine: tokens/s <= read bandwidth / weight bytes read per token.
// Then the decode cost of LoRA adapters: 4 sequences per step with no adapter, one shared adapter,
// and 4 different adapters, and a single stream with and without one.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <immintrin.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <tuple>
#include <string>
#include <thread>
#include <vector>

#include "common/dtype.h"
#include "common/op_timer.h"
#include "common/thread_pool.h"
#include "engine/engine.h"
#include "kernels/amx/amx_matmul.h"
#include "kernels/matmul.h"
#include "loader/model_config.h"
#include "loader/tensor_source.h"
#include "loader/weight_loader.h"
#include "memory/huge_pages.h"
#include "bandwidth_probe.h"

using namespace dse;
using namespace dse::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  int layers = 28;
  int prompt = 128;
  int decode = 32;
  int threads = 0;
  bool int8 = false;
  int lora_rank = 16;  // 0: no LoRA phase
  bool split = false;  // per-op decode time (a -DDSE_OP_TIMERS=ON build)
  int ab_lanes = 0;    // > 1: decode steps alternate int8 lanes 1 and this many, ABBA (--ab-lanes N)
  int ab_prefetch = 0; // > 0: decode steps alternate the read-ahead hint off and this many KiB, ABBA (--ab-prefetch KIB)
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
uint64_t next_rand() {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

// Random bf16 values of magnitude 2^-10..2^-6 with random sign: cheap to make, no denormals.
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

void add_bf16(MemorySource& s, const std::string& name, int64_t rows, int64_t cols) {
  s.add(name, DType::kBF16, {rows, cols}, random_bf16(rows * cols));
}

// The process's anonymous memory in huge pages (all of it, weights and probe buffers alike).
double anon_huge_gb() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  double kb = 0;
  while (in >> key)
    if (key == "AnonHugePages:" && (in >> kb)) return kb * 1024 / 1e9;
  return 0;
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// 1-minute load average: other processes on the machine skew every figure, so it is printed.
std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
}

// LoRA phase: decode cost with 0, 1 and 4 active adapters. Adapters are real PEFT folders (written
// to a temporary folder, rank `rank` on every projection) loaded through Engine::load_adapter, so
// the figures include what serving does: per-row grouping, the A and B products, the scatter-add.
void write_adapter(const std::string& dir, const ModelConfig& cfg, int rank) {
  const int64_t H = cfg.hidden_size, I = cfg.intermediate_size;
  const int64_t qd = cfg.num_heads * cfg.head_dim, kvd = cfg.num_kv_heads * cfg.head_dim;
  const std::vector<std::tuple<std::string, int64_t, int64_t>> projections = {
      {"self_attn.q_proj", qd, H}, {"self_attn.k_proj", kvd, H}, {"self_attn.v_proj", kvd, H},
      {"self_attn.o_proj", H, qd}, {"mlp.gate_proj", I, H},      {"mlp.up_proj", I, H},
      {"mlp.down_proj", H, I}};
  nlohmann::json header;
  std::vector<std::vector<uint8_t>> blobs;
  size_t offset = 0;
  auto add = [&](const std::string& name, int64_t rows, int64_t cols) {
    blobs.push_back(random_bf16(rows * cols));
    header[name] = {{"dtype", "BF16"}, {"shape", {rows, cols}}, {"data_offsets", {offset, offset + blobs.back().size()}}};
    offset += blobs.back().size();
  };
  for (int l = 0; l < cfg.num_layers; ++l)
    for (const auto& [module, out, in] : projections) {
      const std::string p = "base_model.model.model.layers." + std::to_string(l) + "." + module;
      add(p + ".lora_A.weight", rank, in);
      add(p + ".lora_B.weight", out, rank);
    }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream st(dir + "/adapter_model.safetensors", std::ios::binary);
  const uint64_t n = text.size();
  st.write(reinterpret_cast<const char*>(&n), 8);
  st << text;
  for (const auto& b : blobs) st.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  std::ofstream(dir + "/adapter_config.json")
      << nlohmann::json{{"peft_type", "LORA"}, {"r", rank}, {"lora_alpha", 2 * rank}, {"bias", "none"},
                        {"target_modules", {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}}
             .dump();
}

// Decodes `steps` steps of `adapters.size()` sequences (adapter id per sequence, 0: base) after their
// prompts are in; returns seconds per step.
double decode_seconds_per_step(Engine& engine, const std::vector<int>& prompt, const std::vector<int>& adapters,
                               int steps) {
  SamplingParams sp;
  sp.max_tokens = steps + 2;
  for (int a : adapters) engine.start(prompt, sp, a);
  engine.step();  // prefill all prompts, first tokens
  engine.step();
  auto t0 = Clock::now();
  for (int s = 0; s < steps; ++s) engine.step();
  const double per_step = seconds_since(t0) / steps;
  while (engine.active() > 0) engine.step();
  return per_step;
}

void bench_lora(Engine& engine, const ModelConfig& cfg, int rank, int steps) {
  char tmpl[] = "/tmp/dse-bench-lora-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::printf("lora: cannot create a temporary folder\n");
    return;
  }
  const std::string root = tmpl;
  std::vector<int> ids;
  auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) {
    const std::string dir = root + "/a" + std::to_string(i);
    mkdir(dir.c_str(), 0700);
    write_adapter(dir, cfg, rank);
    ids.push_back(engine.load_adapter(dir));
  }
  std::printf("lora: 4 adapters of rank %d on every projection loaded in %.1f s\n", rank, seconds_since(t0));
  std::vector<int> prompt(16);
  for (auto& t : prompt) t = static_cast<int>(next_rand() % cfg.vocab_size);
  // Interleaved rounds, best of each: a shared machine's noise hits every configuration alike.
  const std::vector<std::vector<int>> configs = {{0, 0, 0, 0}, {ids[0], ids[0], ids[0], ids[0]}, ids, {0}, {ids[0]}};
  std::vector<double> best(configs.size(), 1e30);
  decode_seconds_per_step(engine, prompt, configs[0], 2);  // warm caches and scratch buffers
  for (int round = 0; round < 3; ++round)
    for (size_t c = 0; c < configs.size(); ++c)
      best[c] = std::min(best[c], decode_seconds_per_step(engine, prompt, configs[c], steps));
  const double base = best[0], one = best[1], four = best[2], single_base = best[3], single_one = best[4];
  std::printf("lora decode, 4 sequences per step: base %.1f ms/step, 1 adapter %.1f ms (%+.0f%%), "
              "4 adapters %.1f ms (%+.0f%%)\n", base * 1e3, one * 1e3, 100 * (one / base - 1), four * 1e3,
              100 * (four / base - 1));
  std::printf("lora decode, 1 sequence: base %.1f ms/token, 1 adapter %.1f ms (%+.0f%%)\n", single_base * 1e3,
              single_one * 1e3, 100 * (single_one / single_base - 1));
  for (int id : ids) engine.unload_adapter(id);
  std::system(("rm -rf '" + root + "'").c_str());
}

}  // namespace

// CPU time of the whole process: with one thread, the work a decode step costs whatever else runs.
double process_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// --kernels: the matmul alone on the model's MLP shape, one thread, timed in thread CPU time so other
// jobs on a shared machine skew it less than wall time; every SIMD level this CPU has, interleaved.
// int8 rows: the row layout at each level; int8p: the panel layout the loader packs for VNNI.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// The decode GEMV as decode runs it: weights streamed from memory, not cache (the matrix above is
// 28 MB, most of it in this VM's 32 MB L3). 16 copies (440 MB) read in turn, one thread, thread CPU
// time, on 2 MiB pages (as the loader allocates them) and on 4 KiB pages.
void bench_gemv_from_memory(const Weight& w) {
  constexpr int kCopies = 16;
  std::vector<float> x(static_cast<size_t>(w.cols)), y(static_cast<size_t>(w.rows));
  for (auto& v : x) v = static_cast<float>(static_cast<int64_t>(next_rand() % 2001) - 1000) / 1000.f;
  for (bool huge : {true, false}) {
    std::vector<Weight> copies(kCopies, Weight{});
    for (auto& c : copies) {
      c.format = w.format;
      c.rows = w.rows;
      c.cols = w.cols;
      if (huge) resize_huge(c.bf16, w.bf16.size());
      else c.bf16.resize(w.bf16.size());
      std::memcpy(c.bf16.data(), w.bf16.data(), w.bf16.size() * 2);
    }
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      const double t0 = thread_seconds();
      for (const auto& c : copies) matmul(c, x.data(), 1, y.data(), nullptr, nullptr);
      best = std::min(best, thread_seconds() - t0);
    }
    std::printf("  bf16  T=1    decode GEMV from memory, %s pages   %6.1f GB/s of weights\n", huge ? "2 MiB" : "4 KiB",
                kCopies * w.bytes() / best / 1e9);
  }
}

int bench_kernels() {
  const int64_t rows = 8960, cols = 1536;  // gate/up projection
  std::printf("matmul kernels, %lldx%lld weights, 1 thread, thread CPU time, best of 5, load average %s\n",
              static_cast<long long>(rows), static_cast<long long>(cols), loadavg().c_str());
  std::printf("amx: %s%s%s (prefill from %lld tokens)\n", amx_available() ? "" : "unavailable (", amx_status(),
              amx_available() ? "" : ")", static_cast<long long>(amx_min_tokens()));
  auto raw = random_bf16(rows * cols);
  Weight wb;
  wb.format = WFormat::kBF16;
  wb.rows = rows;
  wb.cols = cols;
  wb.bf16.resize(static_cast<size_t>(rows * cols));
  std::memcpy(wb.bf16.data(), raw.data(), raw.size());
  Weight wq;
  wq.format = WFormat::kI8;
  wq.rows = rows;
  wq.cols = cols;
  wq.i8.resize(static_cast<size_t>(rows * cols));
  wq.scale.resize(static_cast<size_t>(rows * q8_blocks(cols)));
  const std::vector<float> wf = wb.to_f32();
  quantize_rows_i8(wf.data(), rows, cols, wq.i8.data(), wq.scale.data());
  std::vector<SimdLevel> levels;
  for (SimdLevel l : {SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kAvx512Dot, SimdLevel::kAmx})
    if (l <= simd_available()) levels.push_back(l);
  Weight wp = wq;  // the panel layout the loader uses for the VNNI kernel
  set_simd_level(simd_available());
  use_kernel_layout(wp);
  for (const Weight* w : {&wb, &wq, &wp}) {
    for (int64_t T : {int64_t{1}, int64_t{128}}) {
      std::vector<float> x(static_cast<size_t>(T * cols)), y(static_cast<size_t>(T * rows));
      for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int64_t>(next_rand() % 2001) - 1000) / 1000.f;
      std::vector<double> best(levels.size(), 1e30);
      for (int rep = 0; rep < 5; ++rep)
        for (size_t l = 0; l < levels.size(); ++l) {
          if (w->panels && levels[l] < SimdLevel::kAvx512Dot) continue;  // panels: the VNNI (and AMX) kernels only
          set_simd_level(levels[l]);
          const double t0 = thread_seconds();
          matmul(*w, x.data(), T, y.data(), nullptr, nullptr);
          best[l] = std::min(best[l], thread_seconds() - t0);
        }
      for (size_t l = 0; l < levels.size(); ++l)
        if (best[l] < 1e30)
          std::printf("  %-5s T=%-4lld %-36s %7.1f GMAC/s  %6.1f GB/s of weights\n",
                      w == &wb ? "bf16" : w == &wq ? "int8" : "int8p", static_cast<long long>(T), simd_name(levels[l]),
                      T * rows * cols / best[l] / 1e9, w->bytes() / best[l] / 1e9);
    }
  }
  set_simd_level(simd_available());
  bench_gemv_from_memory(wb);
  return 0;
}

// --split: where a decode step's wall time went, per kind of op (timed on the forward pass's thread,
// so a pool op includes its barrier), and the weight GEMVs' GB/s against the in-window probe.
void print_split(int decoded, double decode_s, double probe_bw) {
  if (!op_timer::kEnabled) {
    std::printf("split: not in this build (configure with -DDSE_OP_TIMERS=ON)\n");
    return;
  }
  const op_timer::Totals& t = op_timer::totals();
  const double step_ms = 1e3 * decode_s / std::max(1, decoded);
  double timed_ms = 0, gemv_ms = 0, gemv_bytes = 0;
  std::printf("split: %.2f ms per decode step; per op: ms per step, share, calls per step, weight GB/s\n", step_ms);
  for (int op = 0; op < op_timer::kCount; ++op) {
    const double ms = t.ns[op] / 1e6 / std::max(1, decoded);
    timed_ms += ms;
    if (t.bytes[op] > 0) gemv_ms += ms, gemv_bytes += t.bytes[op];
    std::printf("  %-10s %7.3f ms %5.1f%% %6.1f", op_timer::name(op), ms, 100 * ms / step_ms,
                static_cast<double>(t.calls[op]) / std::max(1, decoded));
    if (t.bytes[op] > 0) std::printf("  %5.1f GB/s", t.bytes[op] / (t.ns[op] / 1e9) / 1e9);
    std::printf("\n");
  }
  std::printf("  %-10s %7.3f ms %5.1f%% (engine step outside the timed ops)\n", "untimed", step_ms - timed_ms,
              100 * (step_ms - timed_ms) / step_ms);
  const op_timer::PoolSleeps sleeps = op_timer::pool_sleeps();
  std::printf("  pool waits that ended asleep, per step: workers %.1f, caller %.1f; waits that spun long (quiet machine) %.1f\n",
              static_cast<double>(sleeps.worker) / std::max(1, decoded), static_cast<double>(sleeps.caller) / std::max(1, decoded),
              static_cast<double>(sleeps.quiet) / std::max(1, decoded));
  const op_timer::PoolWaits waits = op_timer::pool_waits();
  const double per = 1.0 / std::max(1, decoded);
  for (int r = 0; r < 2; ++r)
    std::printf("  %s waits per step: at once %.1f, long spin ended by work %.1f, long spin ran out %.1f, "
                "short spin ended by work %.1f, short spin ran out %.1f\n", r ? "worker" : "caller",
                waits.wait[r][op_timer::kWaitImmediate] * per, waits.wait[r][op_timer::kWaitQuietDone] * per,
                waits.wait[r][op_timer::kWaitQuietTimeout] * per, waits.wait[r][op_timer::kWaitAdaptiveDone] * per,
                waits.wait[r][op_timer::kWaitAdaptiveOut] * per);
  std::printf("  contention windows by run-queue delay share (0 / <0.5 / <1 / <2 / <5 / <10 / <25 / more %%):");
  for (int b = 0; b < op_timer::kShareBuckets; ++b) std::printf(" %lld", static_cast<long long>(waits.windows[b]));
  std::printf("; ended contended %lld\n", static_cast<long long>(waits.contended_windows));
  std::printf("  worker sleeps by length (<20 / <50 / <200 us / <1 / <10 ms / more):");
  for (int b = 0; b < op_timer::kSleepBuckets; ++b) std::printf(" %lld", static_cast<long long>(waits.sleep_len[b]));
  std::printf("; run-queue delay across them %.1f us per step\n", waits.sleep_delay_ns / 1e3 * per);
  const op_timer::PoolJoins joins = op_timer::pool_joins();
  if (joins.jobs > 0)
    std::printf("  pool jobs per step %.1f; a worker claimed a chunk in %.1f of them, %.1f us after the start on average\n",
                static_cast<double>(joins.jobs) / std::max(1, decoded), static_cast<double>(joins.joined) / std::max(1, decoded),
                joins.joined ? joins.join_ns / 1e3 / joins.joined : 0.0);
  if (joins.hints > 0)
    std::printf("  read-ahead hints per step %.1f; workers prefetched %.0f KB per step\n",
                static_cast<double>(joins.hints) / std::max(1, decoded), joins.hint_bytes / 1024.0 / std::max(1, decoded));
  const double gemv_gbs = gemv_bytes / std::max(1, decoded) / (gemv_ms / 1e3) / 1e9;
  std::printf("split: weight GEMVs %.1f%% of the step at %.1f GB/s = %.0f%% of the probe (%.1f GB/s); "
              "the rest %.2f ms per step\n", 100 * gemv_ms / step_ms, gemv_gbs, 100 * gemv_gbs * 1e9 / probe_bw,
              probe_bw / 1e9, step_ms - gemv_ms);
}

// --probe N: the bandwidth probe alone, N rounds (give --threads first), each with the spread of its
// passes, to check that the probe is stable from one round to the next.
int bench_probe(int threads, int rounds) {
  ThreadPool pool(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const ProbeBuffer probe_buf;
  for (int i = 0; i < std::max(1, rounds); ++i) {
    const Bandwidth bw = probe_bandwidth(pool, probe_buf);
    std::printf("probe round %d: median %.1f GB/s (min %.1f, max %.1f; %d streams per thread; %d threads; "
                "%.0f%% huge pages), 4 KiB pages %.1f GB/s, load average %s\n",
                i + 1, bw.read / 1e9, bw.passes.min / 1e9, bw.passes.max / 1e9, bw.streams, pool.size(),
                100 * bw.huge_share, bw.small_pages / 1e9, loadavg().c_str());
  }
  return 0;
}

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (k == "--layers") a.layers = val();
    else if (k == "--prompt") a.prompt = val();
    else if (k == "--decode") a.decode = val();
    else if (k == "--threads") a.threads = val();
    else if (k == "--int8") a.int8 = true;
    else if (k == "--lora") a.lora_rank = val();
    else if (k == "--split") a.split = true;
    else if (k == "--ab-lanes") a.ab_lanes = val();
    else if (k == "--ab-prefetch") a.ab_prefetch = val();
    else if (k == "--kernels") return bench_kernels();
    else if (k == "--probe") return bench_probe(a.threads, val());
    else {
      std::fprintf(stderr, "usage: %s [--layers N] [--prompt N] [--decode N] [--threads N] [--int8] [--lora RANK] [--split] [--ab-lanes N] [--ab-prefetch KIB] [--kernels] [--probe ROUNDS]\n",
                   argv[0]);
      return 2;
    }
  }
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // DeepSeek-R1-Distill-Qwen-1.5B: Qwen2 architecture, untied lm_head, q/k/v bias.
  const char* config_json = R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":1536,"intermediate_size":8960,
    "num_hidden_layers":28,"num_attention_heads":12,"num_key_value_heads":2,"vocab_size":151936,
    "max_position_embeddings":131072,"rms_norm_eps":1e-6,"rope_theta":10000,"tie_word_embeddings":false,
    "bos_token_id":151646,"eos_token_id":151643})";
  ModelConfig cfg = parse_model_config(config_json, "bench");
  cfg.num_layers = a.layers;
  const int64_t H = cfg.hidden_size, I = cfg.intermediate_size, V = cfg.vocab_size;
  const int64_t hd = cfg.head_dim, qd = cfg.num_heads * hd, kvd = cfg.num_kv_heads * hd;

  std::printf("engine-cpu bench: %s, %d threads, load average %s, SIMD %s, bf16 decode reads %d rows at once, "
              "int8 %d panels, %d lanes, read-ahead %lld KiB, first pieces %d%% of a pass\n",
              cpu_name().c_str(), threads, loadavg().c_str(), simd_name(simd_level()), decode_streams(), decode_panels(),
              decode_lanes(),
              static_cast<long long>(decode_prefetch_bytes() / 1024), decode_first_share());
  std::printf("amx: %s%s%s (prefill from %lld tokens)\n", amx_available() ? "" : "unavailable (", amx_status(),
              amx_available() ? "" : ")", static_cast<long long>(amx_min_tokens()));
  // (DSE_SIMD=avx512 selects the 512-bit kernel where the CPU has it.)
  std::printf("model: R1-Distill-Qwen-1.5B shape, %d layers, bf16 random weights%s\n", a.layers,
              a.int8 ? " quantized to int8" : "");
  auto t0 = Clock::now();
  auto src = std::make_unique<MemorySource>();
  add_bf16(*src, "model.embed_tokens.weight", V, H);
  add_bf16(*src, "lm_head.weight", V, H);
  src->add("model.norm.weight", DType::kF32, {H}, constant_f32(H, 1.f));
  for (int l = 0; l < a.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    src->add(p + "input_layernorm.weight", DType::kF32, {H}, constant_f32(H, 1.f));
    src->add(p + "post_attention_layernorm.weight", DType::kF32, {H}, constant_f32(H, 1.f));
    add_bf16(*src, p + "self_attn.q_proj.weight", qd, H);
    add_bf16(*src, p + "self_attn.k_proj.weight", kvd, H);
    add_bf16(*src, p + "self_attn.v_proj.weight", kvd, H);
    add_bf16(*src, p + "self_attn.o_proj.weight", H, qd);
    src->add(p + "self_attn.q_proj.bias", DType::kF32, {qd}, constant_f32(qd, 0.01f));
    src->add(p + "self_attn.k_proj.bias", DType::kF32, {kvd}, constant_f32(kvd, 0.01f));
    src->add(p + "self_attn.v_proj.bias", DType::kF32, {kvd}, constant_f32(kvd, 0.01f));
    add_bf16(*src, p + "mlp.gate_proj.weight", I, H);
    add_bf16(*src, p + "mlp.up_proj.weight", I, H);
    add_bf16(*src, p + "mlp.down_proj.weight", H, I);
  }
  EngineOptions eo;
  eo.threads = threads;
  eo.int8 = a.int8;
  eo.max_sequences = 4;  // the LoRA phase decodes 4 sequences at once
  eo.max_context = a.prompt + a.decode + 8;
  Engine engine(std::move(src), cfg, eo);
  const double total_bytes = static_cast<double>(engine.weight_bytes());
  const double embed_bytes = static_cast<double>(V * H * 2);  // bf16 table; one row read per token
  const double bytes_per_token = total_bytes - embed_bytes;
  std::printf("weights: %.2f GB in memory, %.2f GB read per decoded token (all but the embedding table); "
              "setup %.1f s; %.2f GB of the process in huge pages\n", total_bytes / 1e9, bytes_per_token / 1e9,
              seconds_since(t0), anon_huge_gb());

  std::vector<int> prompt(static_cast<size_t>(a.prompt));
  for (int i = 0; i < a.prompt; ++i) prompt[i] = static_cast<int>(next_rand() % V);
  SamplingParams sp;
  sp.max_tokens = a.decode + 1;
  engine.step();  // warm the pool
  int id = engine.start(prompt, sp);
  auto tp = Clock::now();
  auto first = engine.step();  // the whole prompt in one batched forward, plus the first sample
  const double prefill_s = seconds_since(tp);
  // The probe first (it picks the stream count), then decode steps alternated with probe passes: this
  // VM's bandwidth moves by up to 2x within minutes (the host's other tenants, where its vCPUs run), so
  // decode's share of the probe is only meaningful against passes taken in the same window.
  ThreadPool pool(threads);
  const ProbeBuffer probe_buf;
  const Bandwidth bw = probe_bandwidth(pool, probe_buf);
  std::vector<double> window, step_s, step_cpu;
  int decoded = 0;
  double decode_s = 0, decode_cpu = 0;
  op_timer::reset();
  while (decoded < a.decode) {
    window.push_back(read_pass(pool, probe_buf.words, bw.streams, probe_buf.sum));
    const double cpu0 = process_seconds();
    const auto td = Clock::now();
    const bool ab_b = step_s.size() % 4 == 1 || step_s.size() % 4 == 2;
    if (a.ab_lanes > 1) set_decode_lanes(ab_b ? a.ab_lanes : 1);
    if (a.ab_prefetch > 0) set_decode_prefetch_bytes(ab_b ? int64_t{a.ab_prefetch} * 1024 : 0);
    auto ev = engine.step();
    step_s.push_back(seconds_since(td));
    decode_s += step_s.back();
    step_cpu.push_back(process_seconds() - cpu0);
    decode_cpu += step_cpu.back();
    if (ev.empty()) break;
    decoded += static_cast<int>(ev.size());
    if (ev[0].finish != FinishReason::kNone) break;
  }
  // One more pass after the last step, so every step has a probe pass right before and right after it.
  window.push_back(read_pass(pool, probe_buf.words, bw.streams, probe_buf.sum));
  (void)id;
  (void)first;
  const Adjacent adj = adjacent_share(step_s, window, bytes_per_token);
  const std::vector<double> passes = window;
  window.pop_back();  // the median below stays over the passes before the steps, as before
  const Spread win = spread(window);
  const double read_bw = win.median;
  const double copy_bw = memcpy_bandwidth(std::vector<uint64_t>(size_t{1} << 27, 1));

  const double prefill_tps = a.prompt / prefill_s;
  const double decode_tps = decoded / decode_s;
  const double roofline = read_bw / bytes_per_token;
  std::printf("prefill: %d tokens in %.2f s = %.1f tokens/s\n", a.prompt, prefill_s, prefill_tps);
  std::printf("decode:  %d tokens in %.2f s = %.2f tokens/s (single stream; %.1f ms of CPU per token, all threads)\n",
              decoded, decode_s, decode_tps, 1e3 * decode_cpu / std::max(1, decoded));
  std::printf("memory:  read %.1f GB/s (median of %zu passes over 1 GiB alternated with the decode steps, min %.1f, "
              "max %.1f; %d threads, %d streams each, the best of 1/2/4/8 in a probe before decode: %.1f GB/s, "
              "min %.1f, max %.1f; 2 MiB pages: %.0f%% of the buffer; 4 KiB pages: %.1f GB/s), memcpy %.1f GB/s "
              "(read+write, 1 thread)\n",
              read_bw / 1e9, window.size(), win.min / 1e9, win.max / 1e9, threads, bw.streams, bw.read / 1e9,
              bw.passes.min / 1e9, bw.passes.max / 1e9, 100 * bw.huge_share, bw.small_pages / 1e9, copy_bw / 1e9);
  // Whether the ceiling needs several streams per thread (a kernel reading one stream per thread, as the
  // int8 decode GEMV does by default, sees the 1-stream figure).
  std::printf("probe by streams per thread (before decode, median pass): 1: %.1f, 2: %.1f, 4: %.1f, 8: %.1f GB/s\n",
              bw.by_streams[0] / 1e9, bw.by_streams[1] / 1e9, bw.by_streams[2] / 1e9, bw.by_streams[3] / 1e9);
  std::printf("load average at the end: %s (above the thread count means the figures are shared)\n",
              loadavg().c_str());
  std::printf("roofline: %.2f tokens/s = read bandwidth / %.2f GB per token; decode streams %.1f GB/s of weights, "
              "%.0f%% of the probe\n", roofline, bytes_per_token / 1e9, decode_tps * bytes_per_token / 1e9,
              100.0 * decode_tps / roofline);
  print_adjacent(adj, step_s, passes);
  if (a.ab_lanes > 1)
    print_ab("lanes", "1 lane", std::to_string(a.ab_lanes) + " lanes", step_s, step_cpu, adj, bytes_per_token);
  if (a.ab_prefetch > 0)
    print_ab("prefetch", "0 KiB", std::to_string(a.ab_prefetch) + " KiB", step_s, step_cpu, adj, bytes_per_token);
  if (a.split) print_split(decoded, decode_s, read_bw);
  if (a.lora_rank > 0) bench_lora(engine, cfg, a.lora_rank, std::max(4, a.decode / 2));
  return 0;
}
