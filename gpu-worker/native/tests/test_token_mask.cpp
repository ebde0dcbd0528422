// Constrained decoding's token mask: applied before sampling, every mode (greedy, temperature,
// top-k, top-p, repetition penalty) picks only allowed tokens, and through the Engine a masked
// sequence never yields a disallowed token while its neighbours stay free.
#include <map>
#include <random>
#include <set>

#include "check.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "engine/token_mask.h"
#include "test_util.h"

using namespace dse;

namespace {

std::vector<uint64_t> mask_of(int vocab, const std::set<int>& allowed) {
  std::vector<uint64_t> m(static_cast<size_t>((vocab + 63) / 64), 0);
  for (int t : allowed) m[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
  return m;
}

}  // namespace

TEST(mask_leaves_allowed_logits_and_bars_the_rest) {
  const int vocab = 200;  // not a multiple of 64: the last word is partial
  std::vector<float> logits(vocab, 1.f);
  const std::set<int> allowed = {0, 63, 64, 130, 199};
  apply_token_mask(logits.data(), vocab, mask_of(vocab, allowed));
  for (int i = 0; i < vocab; ++i) {
    if (allowed.count(i)) CHECK_EQ(logits[i], 1.f);
    else CHECK(std::isinf(logits[i]) && logits[i] < 0);
  }
  CHECK_EQ(count_allowed(mask_of(vocab, allowed), vocab), 5);
  CHECK_EQ(count_allowed(std::vector<uint64_t>(1, ~uint64_t{0}), vocab), 64);  // short mask: rest barred
}

TEST(every_sampling_mode_picks_only_allowed_tokens) {
  const int vocab = 1000;
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.f, 3.f);
  const std::set<int> allowed = {3, 500, 777, 999};
  for (int mode = 0; mode < 4; ++mode) {
    SamplingParams p;
    p.seed = 11 + mode;
    if (mode >= 1) p.temperature = 1.5f;
    if (mode == 2) p.top_k = 5;
    if (mode == 3) {
      p.top_p = 0.5f;
      p.repetition_penalty = 1.3f;
    }
    Sampler s(p, vocab);
    std::set<int> seen;
    for (int draw = 0; draw < 300; ++draw) {
      std::vector<float> logits(vocab);
      for (auto& l : logits) l = noise(rng);
      logits[1] = 50.f;  // the favourite is not allowed
      apply_token_mask(logits.data(), vocab, mask_of(vocab, allowed));
      const int t = s.sample(logits.data());
      CHECK(allowed.count(t) == 1);
      seen.insert(t);
      s.observe(t);
    }
    if (mode >= 1 && mode <= 2) CHECK(seen.size() > 1);  // still sampling, not collapsed onto one
  }
}

TEST(engine_masks_one_sequence_and_not_its_neighbour) {
  EngineOptions o;
  o.threads = 2;
  o.max_sequences = 2;
  auto e = Engine::load(testutil::model_dir("tiny-deepseek-v3"), o);
  const int vocab = e->config().vocab_size;
  SamplingParams sp;
  sp.temperature = 1.f;
  sp.seed = 5;
  sp.max_tokens = 12;
  const std::set<int> allowed = {7, 8, 9};
  const int masked = e->start({5, 6, 7}, sp);
  const int free = e->start({5, 6, 7}, sp);
  e->set_token_mask(masked, mask_of(vocab, allowed));
  std::map<int, std::vector<int>> out;
  for (int guard = 0; guard < 100 && e->active() > 0; ++guard)
    for (auto& ev : e->step())
      if (ev.token >= 0) out[ev.seq_id].push_back(ev.token);
  CHECK_EQ(out[masked].size(), size_t{12});
  for (int t : out[masked]) CHECK(allowed.count(t) == 1);
  bool outside = false;
  for (int t : out[free]) outside |= allowed.count(t) == 0;
  CHECK(outside);  // same prompt and seed, no mask: the random model wanders off the three
  const int other = e->start({5}, sp);
  CHECK_THROWS(e->set_token_mask(other, std::vector<uint64_t>(static_cast<size_t>((vocab + 63) / 64), 0)),
               ErrorKind::kBadRequest, "allows no token");
  e->set_token_mask(12345, mask_of(vocab, allowed));  // unknown ids are ignored, as cancel() does
}

TEST_MAIN()
