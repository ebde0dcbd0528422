// Continuous batching on the CUDA backend: 64 sequences of mixed prompt and output lengths, started
// at random steps (so prefill chunks share batches with decode rows) and some cancelled at random
// steps, must produce the same greedy tokens as each sequence run alone, and every KV block must be
// back in the pool afterwards.
// Near-tie rule: a batch of > 8 rows takes the tiled GEMM while a solo decode takes the GEMV, and
// the two sum in different orders (fp32 rounding, ~1e-6 relative). Where tokens differ, the solo
// logits for that prefix must show a near-tie (gap <= 1e-3) between the two tokens, and that
// sequence is compared no further; anything else fails. Skips (exit 77) without a GPU.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

#include "../check.h"
#include "../test_util.h"
#include "cuda/cuda_backend.h"
#include "cuda_test_util.h"
#include "engine/engine.h"

using namespace dse;

namespace {

struct Job {
  std::vector<int> prompt;
  int max_tokens = 0;
  int start_step = 0;
  int cancel_after = -1;  // cancel once this many tokens arrived (-1: never)
  std::vector<int> solo;
};

std::map<int, std::vector<int>> drain(Engine& e) {
  std::map<int, std::vector<int>> out;
  for (int guard = 0; guard < 10000 && (e.active() > 0 || guard == 0); ++guard)
    for (auto& ev : e.step())
      if (ev.token >= 0) out[ev.seq_id].push_back(ev.token);
  return out;
}

void check_prefix(Engine& e, const Job& j, const std::vector<int>& got, bool must_be_complete) {
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(i < j.solo.size());
    if (got[i] == j.solo[i]) continue;
    std::vector<int> prefix = j.prompt;
    prefix.insert(prefix.end(), j.solo.begin(), j.solo.begin() + static_cast<long>(i));
    auto lg = e.forward_logits(prefix, false);
    std::printf("  near-tie check at token %zu: gap %.3g\n", i, std::fabs(lg[got[i]] - lg[j.solo[i]]));
    CHECK(std::fabs(lg[got[i]] - lg[j.solo[i]]) <= 1e-3);
    return;
  }
  if (must_be_complete) CHECK_EQ(got.size(), j.solo.size());
}

void run(const std::string& model, int prefill_chunk) {
  EngineOptions opts;
  opts.backend = "cuda:0";
  opts.max_sequences = 64;
  opts.prefill_chunk = prefill_chunk;
  auto e = Engine::load(testutil::model_dir(model), opts);
  auto* cb = dynamic_cast<CudaBackend*>(&e->backend());
  CHECK(cb != nullptr);
  const int32_t total = cb->kv_blocks_total();
  CHECK_EQ(cb->kv_blocks_free(), total);
  const int V = e->config().vocab_size;

  std::mt19937 rng(1234);
  std::vector<Job> jobs(64);
  for (auto& j : jobs) {
    const int plen = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < plen; ++i) j.prompt.push_back(static_cast<int>(rng() % V));
    j.max_tokens = 1 + static_cast<int>(rng() % 24);
    j.start_step = static_cast<int>(rng() % 20);
    if (rng() % 4 == 0) j.cancel_after = static_cast<int>(rng() % j.max_tokens);
  }
  SamplingParams sp;
  for (auto& j : jobs) {
    sp.max_tokens = j.max_tokens;
    int id = e->start(j.prompt, sp);
    j.solo = drain(*e)[id];
    CHECK_EQ(cb->kv_blocks_free(), total);
  }

  std::map<int, size_t> job_of;  // seq id -> job
  std::map<int, std::vector<int>> got;
  std::vector<bool> started(jobs.size(), false), cancelled(jobs.size(), false);
  for (int step = 0; step < 10000; ++step) {
    for (size_t k = 0; k < jobs.size(); ++k)
      if (!started[k] && jobs[k].start_step <= step) {
        sp.max_tokens = jobs[k].max_tokens;
        job_of[e->start(jobs[k].prompt, sp)] = k;
        started[k] = true;
      }
    for (auto& ev : e->step())
      if (ev.token >= 0) got[ev.seq_id].push_back(ev.token);
    for (auto& [id, k] : job_of) {
      if (!cancelled[k] && jobs[k].cancel_after >= 0 && static_cast<int>(got[id].size()) >= jobs[k].cancel_after) {
        e->cancel(id);
        cancelled[k] = true;
      }
    }
    if (e->active() == 0 && std::all_of(started.begin(), started.end(), [](bool b) { return b; })) break;
  }
  drain(*e);  // report pending cancellations
  for (auto& [id, k] : job_of) check_prefix(*e, jobs[k], got[id], !cancelled[k]);
  CHECK_EQ(e->active(), 0);
  CHECK_EQ(cb->kv_blocks_free(), total);
  std::printf("  %s (prefill chunk %d): 64 sequences, %d blocks all returned\n", model.c_str(), prefill_chunk, total);
}

}  // namespace

TEST(batching_matches_solo_llama) { run("tiny-llama", 16); }
TEST(batching_matches_solo_qwen2_whole_prompts) { run("tiny-qwen2", 0); }
TEST(batching_matches_solo_deepseek_v3) { run("tiny-deepseek-v3", 16); }

// CUDA graphs replay exactly the kernels of the eager path, so tokens must match bit for bit.
TEST(cuda_graphs_match_eager) {
  for (const char* model : {"tiny-llama", "tiny-qwen2"}) {
    std::map<int, std::vector<int>> results[2];
    for (int graphs = 0; graphs < 2; ++graphs) {
      if (graphs) setenv("DSE_CUDA_GRAPHS", "1", 1);
      EngineOptions opts;
      opts.backend = "cuda:0";
      opts.max_sequences = 12;
      auto e = Engine::load(testutil::model_dir(model), opts);
      unsetenv("DSE_CUDA_GRAPHS");
      std::mt19937 rng(99);
      const int V = e->config().vocab_size;
      SamplingParams sp;
      std::map<int, int> index;
      for (int s = 0; s < 12; ++s) {
        std::vector<int> prompt(1 + rng() % 30);
        for (auto& t : prompt) t = static_cast<int>(rng() % V);
        sp.max_tokens = 5 + static_cast<int>(rng() % 40);
        index[e->start(prompt, sp)] = s;
      }
      for (auto& [id, toks] : drain(*e)) results[graphs][index[id]] = toks;
    }
    CHECK(results[0] == results[1]);
    std::printf("  %s: %zu sequences identical with and without CUDA graphs\n", model, results[0].size());
  }
}

// Engine::stats() reads the paged pool: the positions of the blocks in use over the pool's positions.
TEST(stats_follow_the_paged_pool) {
  EngineOptions opts;
  opts.backend = "cuda:0";
  opts.max_sequences = 4;
  auto e = Engine::load(testutil::model_dir("tiny-llama"), opts);
  auto* cb = dynamic_cast<CudaBackend*>(&e->backend());
  CHECK(cb != nullptr);
  const int64_t per_block = e->stats().kv_total_tokens / cb->kv_blocks_total();
  CHECK(per_block > 0);
  CHECK_EQ(e->stats().kv_total_tokens, per_block * cb->kv_blocks_total());
  CHECK_EQ(e->stats().kv_used_tokens, int64_t{0});
  SamplingParams sp;
  sp.max_tokens = 40;
  const int id = e->start({1, 2, 3}, sp);  // reserves ceil(43 / block size) blocks
  const EngineStats s = e->stats();
  CHECK_EQ(s.active, 1);
  CHECK_EQ(s.kv_used_tokens, int64_t(cb->kv_blocks_total() - cb->kv_blocks_free()) * per_block);
  CHECK_EQ(s.kv_used_tokens, (43 + per_block - 1) / per_block * per_block);
  e->cancel(id);
  CHECK_EQ(e->stats().kv_used_tokens, int64_t{0});
}

TEST(cuda_spec_parsing) {
  EngineOptions opts;
  opts.backend = "cuda:x";
  CHECK_THROWS(Engine::load(testutil::model_dir("tiny-llama"), opts), ErrorKind::kUnsupported, "cuda:x");
  opts.backend = "cuda:999";
  CHECK_THROWS(Engine::load(testutil::model_dir("tiny-llama"), opts), ErrorKind::kUnsupported, "does not exist");
}

int main(int argc, char** argv) {
  if (cudatest::skip_without_device()) return cudatest::kSkip;
  return check::run_all(argc, argv);
}
