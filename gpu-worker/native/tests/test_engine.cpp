// Scheduler and sampling: interleaved sequences equal solo runs, cancellation frees the slot, stats
// count live sequences and their KV reservation,
// seeded sampling is reproducible, top-k / top-p restrict the support, repetition penalty applies.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "check.h"
#include "engine/engine.h"
#include "engine/logprobs.h"
#include "engine/sampler.h"
#include "test_util.h"

using namespace dse;

namespace {

EngineOptions opts(int max_seq = 4) {
  EngineOptions o;
  o.threads = 2;
  o.max_sequences = max_seq;
  return o;
}

// Runs until every id finished; returns tokens per id.
std::map<int, std::vector<int>> drain(Engine& e, std::map<int, FinishReason>* finish = nullptr) {
  std::map<int, std::vector<int>> out;
  for (int guard = 0; guard < 1000 && (e.active() > 0 || guard == 0); ++guard)
    for (auto& ev : e.step()) {
      if (ev.token >= 0) out[ev.seq_id].push_back(ev.token);
      if (finish && ev.finish != FinishReason::kNone) (*finish)[ev.seq_id] = ev.finish;
    }
  return out;
}

std::vector<int> solo(Engine& e, const std::vector<int>& prompt, const SamplingParams& sp) {
  int id = e.start(prompt, sp);
  return drain(e)[id];
}

}  // namespace

TEST(interleaved_sequences_match_solo_runs) {
  for (const char* model : {"tiny-deepseek-v3", "tiny-qwen2"}) {
    auto e = Engine::load(testutil::model_dir(model), opts());
    std::vector<std::vector<int>> prompts = {{5, 6, 7, 8, 9, 10, 11}, {300, 2}, {42, 17, 99, 100, 101}};
    SamplingParams sp;
    sp.max_tokens = 10;
    std::vector<std::vector<int>> alone;
    for (auto& p : prompts) alone.push_back(solo(*e, p, sp));
    // Staggered starts: the second and third join while the first is decoding, so steps mix a
    // prefill with decode rows of other sequences.
    std::map<int, std::vector<int>> got;
    int a = e->start(prompts[0], sp);
    for (auto& ev : e->step()) got[ev.seq_id].push_back(ev.token);
    int b = e->start(prompts[1], sp);
    for (auto& ev : e->step()) got[ev.seq_id].push_back(ev.token);
    for (auto& ev : e->step()) got[ev.seq_id].push_back(ev.token);
    int c = e->start(prompts[2], sp);
    for (auto& kv : drain(*e))
      for (int t : kv.second) got[kv.first].push_back(t);
    CHECK(got[a] == alone[0]);
    CHECK(got[b] == alone[1]);
    CHECK(got[c] == alone[2]);
    CHECK_EQ(got[a].size(), 10u);
  }
}

TEST(chunked_prefill_matches_whole_prompt) {
  auto g = testutil::read_json(testutil::model_dir("tiny-deepseek-noqlora") + "/golden.json");
  auto ids = g["input_ids"].get<std::vector<int>>();
  auto expect = g["greedy_continuation"].get<std::vector<int>>();
  for (int chunk : {1, 5, 24, 0}) {
    EngineOptions o = opts();
    o.prefill_chunk = chunk;
    auto e = Engine::load(testutil::model_dir("tiny-deepseek-noqlora"), o);
    SamplingParams sp;
    sp.max_tokens = static_cast<int>(expect.size());
    int steps_without_events = 0;
    int id = e->start(ids, sp);
    std::vector<int> got;
    while (e->active() > 0) {
      auto evs = e->step();
      steps_without_events += evs.empty();
      for (auto& ev : evs) got.push_back(ev.token);
    }
    (void)id;
    CHECK(got == expect);
    const int chunks = chunk > 0 ? (static_cast<int>(ids.size()) + chunk - 1) / chunk : 1;
    CHECK_EQ(steps_without_events, chunks - 1);
  }
}

TEST(cancellation_frees_the_slot) {
  auto e = Engine::load(testutil::model_dir("tiny-llama"), opts(2));
  SamplingParams sp;
  sp.max_tokens = 1000;
  int a = e->start({1, 2, 3}, sp);
  int b = e->start({4, 5}, sp);
  for (int i = 0; i < 3; ++i) e->step();
  e->cancel(a);
  e->cancel(a);     // twice: ignored
  e->cancel(9999);  // unknown: ignored
  CHECK_EQ(e->active(), 1);
  int c = e->start({7}, sp);  // a's slot is free again
  auto evs = e->step();
  int cancelled = 0;
  for (auto& ev : evs)
    if (ev.seq_id == a) {
      CHECK(ev.finish == FinishReason::kCancelled);
      CHECK_EQ(ev.token, -1);
      CHECK_EQ(ev.completion_tokens, 3);
      ++cancelled;
    }
  CHECK_EQ(cancelled, 1);
  e->cancel(b);
  e->cancel(c);
  std::map<int, FinishReason> fin;
  drain(*e, &fin);
  CHECK(fin[b] == FinishReason::kCancelled);
  CHECK(fin[c] == FinishReason::kCancelled);
  CHECK_EQ(e->active(), 0);
}

TEST(stats_count_live_sequences_and_their_kv_reservation) {
  EngineOptions o = opts(2);
  o.max_context = 64;
  auto e = Engine::load(testutil::model_dir("tiny-llama"), o);
  EngineStats idle = e->stats();
  CHECK_EQ(idle.active, 0);
  CHECK_EQ(idle.kv_used_tokens, 0);
  CHECK_EQ(idle.kv_total_tokens, 2 * 64);  // host cache: every slot at the full context
  SamplingParams sp;
  sp.max_tokens = 10;
  int a = e->start({1, 2, 3}, sp);  // reserves prompt + max_tokens = 13 positions
  sp.max_tokens = 1000;
  e->start({4, 5}, sp);  // capped at the context: 64 positions
  EngineStats busy = e->stats();
  CHECK_EQ(busy.active, 2);
  CHECK_EQ(busy.kv_used_tokens, 13 + 64);
  CHECK_EQ(busy.kv_total_tokens, 2 * 64);
  e->step();
  CHECK_EQ(e->stats().kv_used_tokens, 13 + 64);  // reserved up front, not grown per token
  e->cancel(a);
  EngineStats after = e->stats();
  CHECK_EQ(after.active, 1);
  CHECK_EQ(after.kv_used_tokens, 64);
  drain(*e);
  CHECK_EQ(e->stats().kv_used_tokens, 0);
}

TEST(stop_token_finishes_without_delivering_it) {
  auto e = Engine::load(testutil::model_dir("tiny-qwen2"), opts());
  auto g = testutil::read_json(testutil::model_dir("tiny-qwen2") + "/golden.json");
  auto ids = g["input_ids"].get<std::vector<int>>();
  auto cont = g["greedy_continuation"].get<std::vector<int>>();
  SamplingParams sp;
  sp.max_tokens = 16;
  sp.stop_token_ids = {cont[3]};
  std::map<int, FinishReason> fin;
  int id = e->start(ids, sp);
  auto got = drain(*e, &fin)[id];
  CHECK(fin[id] == FinishReason::kStop);
  CHECK(got == std::vector<int>(cont.begin(), cont.begin() + 3));
}

// With more pool threads than KV heads, decode splits each GQA group's query heads over several attention
// items (model/dense_model.cpp): tiny-qwen2 (4 heads, 2 KV heads) on 3 and 5 threads (two items per group,
// one head each) still gives HF's greedy continuation.
TEST(greedy_continuation_with_attention_groups_split_over_threads) {
  auto g = testutil::read_json(testutil::model_dir("tiny-qwen2") + "/golden.json");
  auto ids = g["input_ids"].get<std::vector<int>>();
  auto cont = g["greedy_continuation"].get<std::vector<int>>();
  for (int threads : {3, 5}) {
    EngineOptions o = opts();
    o.threads = threads;
    auto e = Engine::load(testutil::model_dir("tiny-qwen2"), o);
    SamplingParams sp;
    sp.max_tokens = static_cast<int>(cont.size());
    CHECK(solo(*e, ids, sp) == cont);
  }
}

TEST(seeded_sampling_is_reproducible_and_seed_sensitive) {
  auto e = Engine::load(testutil::model_dir("tiny-deepseek-v2-lite"), opts());
  SamplingParams sp;
  sp.temperature = 1.5f;
  sp.max_tokens = 24;
  sp.seed = 1234;
  auto a = solo(*e, {10, 20, 30}, sp);
  auto b = solo(*e, {10, 20, 30}, sp);
  CHECK(a == b);
  sp.seed = 99;
  auto c = solo(*e, {10, 20, 30}, sp);
  CHECK(a != c);
  // top_k = 1 at any temperature is greedy.
  SamplingParams g;
  g.max_tokens = 12;
  SamplingParams k1 = sp;
  k1.top_k = 1;
  k1.max_tokens = 12;
  CHECK(solo(*e, {10, 20, 30}, g) == solo(*e, {10, 20, 30}, k1));
}

TEST(top_k_and_top_p_restrict_the_support) {
  const int V = 50;
  std::vector<float> base(V);
  for (int i = 0; i < V; ++i) base[i] = 0.1f * i;  // token 49 most likely
  SamplingParams sp;
  sp.temperature = 5.f;  // flat enough that without filters many tokens appear
  sp.seed = 7;
  sp.top_k = 4;
  Sampler s(sp, V);
  std::set<int> seen;
  for (int i = 0; i < 3000; ++i) {
    auto l = base;
    seen.insert(s.sample(l.data()));
  }
  CHECK(seen == (std::set<int>{46, 47, 48, 49}));

  // top-p: probabilities 0.5, 0.3, 0.2 (logits are log-probs, temperature 1).
  std::vector<float> lp = {std::log(0.2f), std::log(0.5f), std::log(0.3f)};
  SamplingParams pp;
  pp.temperature = 1.f;
  pp.top_p = 0.75f;  // needs 0.5 + 0.3: token 0 excluded
  Sampler sp2(pp, 3);
  std::map<int, int> count;
  for (int i = 0; i < 4000; ++i) {
    auto l = lp;
    count[sp2.sample(l.data())]++;
  }
  CHECK_EQ(count[0], 0);
  CHECK(count[1] > 0 && count[2] > 0);
  CHECK_NEAR(count[1] / 4000.0, 0.5 / 0.8, 0.04);  // renormalised over the kept tokens

  pp.top_p = 0.4f;  // the top token alone suffices
  Sampler sp3(pp, 3);
  for (int i = 0; i < 200; ++i) {
    auto l = lp;
    CHECK_EQ(sp3.sample(l.data()), 1);
  }

  // Without filters all three tokens appear, in proportion.
  SamplingParams none;
  none.temperature = 1.f;
  Sampler sp4(none, 3);
  std::map<int, int> c4;
  for (int i = 0; i < 4000; ++i) {
    auto l = lp;
    c4[sp4.sample(l.data())]++;
  }
  CHECK_NEAR(c4[0] / 4000.0, 0.2, 0.03);
}

// The plain reference for top-p (and top-k) sampling: sort the whole vocabulary, cut the smallest
// prefix whose share of the mass reaches top_p, pick with the uniform draw u.
static int reference_sample(std::vector<float> logits, const SamplingParams& p, double u) {
  const int V = static_cast<int>(logits.size());
  std::vector<int> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  int n = p.top_k > 0 && p.top_k < V ? p.top_k : V;
  std::vector<double> probs(n);
  double sum = 0;
  const float inv_t = 1.f / p.temperature;
  for (int i = 0; i < n; ++i) sum += probs[i] = std::exp((logits[order[i]] - logits[order[0]]) * inv_t);
  double cum = 0;
  for (int i = 0; i < n; ++i) {
    cum += probs[i] / sum;
    if (cum >= p.top_p) {
      n = i + 1;
      break;
    }
  }
  sum = 0;
  for (int i = 0; i < n; ++i) sum += probs[i];
  double r = u * sum;
  for (int i = 0; i < n; ++i) {
    r -= probs[i];
    if (r < 0) return order[i];
  }
  return order[n - 1];
}

TEST(top_p_sorts_only_the_head_and_still_matches_the_full_sort) {
  // A DeepSeek-sized vocabulary: peaked distributions (the head path), flat ones (the fallback),
  // ties, and top-k with top-p; each pick equals the reference's with the same uniform draw.
  const int V = 129280;
  uint64_t x = 12345;
  auto uniform = [&x] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
  };
  int checked = 0;
  for (float scale : {0.5f, 2.f, 8.f}) {
    for (float temperature : {0.3f, 0.7f, 1.f, 1.5f}) {
      for (float top_p : {0.5f, 0.9f, 0.95f, 0.999f}) {
        for (int top_k : {0, 40}) {
          SamplingParams sp;
          sp.temperature = temperature;
          sp.top_p = top_p;
          sp.top_k = top_k;
          sp.seed = static_cast<uint64_t>(checked) + 1;
          Sampler s(sp, V);
          Sampler draws(sp, V);  // the same generator: the uniform draw s uses for its pick
          std::vector<float> logits(V);
          for (int i = 0; i < V; ++i) {
            // a long tail, a few strong tokens, and ties among them
            logits[i] = static_cast<float>(scale * (uniform() * 4 - 2));
            if (i % 9973 == 0) logits[i] = scale * 6.f + static_cast<float>(i % 3);
          }
          auto scratch = logits;
          const int got = s.sample(scratch.data());
          CHECK_EQ(got, reference_sample(logits, sp, draws.next_uniform()));
          ++checked;
        }
      }
    }
  }
  CHECK_EQ(checked, 3 * 4 * 4 * 2);

  // One strong token and a crowd just outside the head window holding 0.7% of the mass: top_p 0.999
  // reaches into the crowd, so the sampler must sort everything (the fallback) and pick from it.
  SamplingParams sp;
  sp.temperature = 1.f;
  sp.top_p = 0.999f;
  sp.seed = 99;
  Sampler s(sp, V);
  Sampler draws(sp, V);
  std::vector<float> crowd(V);
  for (int i = 0; i < V; ++i) crowd[i] = -16.5f - static_cast<float>(uniform() * 0.01);
  crowd[7] = 0.f;
  int outside = 0;
  for (int round = 0; round < 400; ++round) {
    auto scratch = crowd;
    const int got = s.sample(scratch.data());
    CHECK_EQ(got, reference_sample(crowd, sp, draws.next_uniform()));
    outside += got != 7;
  }
  CHECK(outside > 0);  // about 0.7% of picks come from the crowd
}

// The greedy choice against the one compare-and-index loop it replaced: ties go to the lowest id, -inf
// everywhere (a token mask) gives 0, NaNs are skipped except at 0, lengths around the eight lanes.
TEST(greedy_argmax_matches_the_scalar_loop) {
  auto scalar = [](const float* x, int n) {
    int best = 0;
    for (int i = 1; i < n; ++i)
      if (x[i] > x[best]) best = i;
    return best;
  };
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (int n : {1, 2, 7, 8, 9, 17, 1000, 151936}) {
    auto x = testutil::random_vec(static_cast<size_t>(n), 21, 10.f);
    CHECK_EQ(greedy_argmax(x.data(), n), scalar(x.data(), n));
    for (int j = n / 3; j < n; j += 5) x[j] = 20.f;  // ties: the first of them
    CHECK_EQ(greedy_argmax(x.data(), n), scalar(x.data(), n));
    x[n - 1] = 30.f;  // the last one, in the scalar tail or the last lane
    CHECK_EQ(greedy_argmax(x.data(), n), n - 1);
    std::vector<float> masked(static_cast<size_t>(n), -inf);
    CHECK_EQ(greedy_argmax(masked.data(), n), 0);
    masked[n / 2] = -1e30f;
    CHECK_EQ(greedy_argmax(masked.data(), n), scalar(masked.data(), n));
    x[n / 2] = nan;
    CHECK_EQ(greedy_argmax(x.data(), n), scalar(x.data(), n));
    x[0] = nan;
    CHECK_EQ(greedy_argmax(x.data(), n), 0);
  }
}

TEST(repetition_penalty_follows_hf) {
  SamplingParams sp;
  sp.repetition_penalty = 2.f;
  Sampler s(sp, 4);
  s.observe(0);
  s.observe(2);
  // Seen token 0 (logit 3 -> 1.5) loses to unseen token 1 (2.0); seen negative logit is multiplied.
  std::vector<float> l = {3.f, 2.f, -1.f, -1.5f};
  CHECK_EQ(s.sample(l.data()), 1);
  CHECK_EQ(l[0], 1.5f);
  CHECK_EQ(l[2], -2.f);
  CHECK_EQ(l[3], -1.5f);
}

TEST_MAIN()

TEST(step_logprobs_are_the_raw_log_softmax) {
  // log_softmax of {2, 1, 0, 1}: the top list is best first, ties by lower id, and a penalty applied
  // afterwards (the sampler rewrites the row) does not change what chosen() reports.
  std::vector<float> l = {2.f, 1.f, 0.f, 1.f};
  const double lse = std::log(std::exp(2.0) + 2 * std::exp(1.0) + 1.0);
  StepLogprobs lp;
  lp.observe(l.data(), 4, 3);
  l[1] = -100.f;
  TokenLogprobs t = lp.chosen(1);
  CHECK_NEAR(t.logprob, 1.0 - lse, 1e-6);
  CHECK_EQ(t.top.size(), size_t(3));
  CHECK_EQ(t.top[0].first, 0);
  CHECK_EQ(t.top[1].first, 1);
  CHECK_EQ(t.top[2].first, 3);
  CHECK_NEAR(t.top[0].second, 2.0 - lse, 1e-6);
  lp.observe(l.data(), 4, 0);
  CHECK(lp.chosen(2).top.empty());
}

TEST(engine_reports_logprobs_only_for_sequences_that_ask) {
  auto e = Engine::load(testutil::model_dir("tiny-deepseek-v3"), opts());
  SamplingParams g;
  g.max_tokens = 4;
  const int plain = e->start({10, 20, 30}, g);
  const int asked = e->start({10, 20, 30}, g);
  e->request_logprobs(asked, 5);
  CHECK_THROWS(e->request_logprobs(asked, 21), ErrorKind::kBadRequest, "top_logprobs");
  int steps = 0;
  while (e->active() > 0) {
    std::vector<StepEvent> evs = e->step();
    std::vector<TokenLogprobs> lps = e->last_logprobs();
    int tokens_of_asked = 0;
    for (auto& ev : evs)
      if (ev.seq_id == asked && ev.token >= 0) ++tokens_of_asked;
    CHECK_EQ(lps.size(), size_t(tokens_of_asked));
    for (auto& lp : lps) {
      CHECK_EQ(lp.seq_id, asked);
      CHECK_EQ(lp.top.size(), size_t(5));
      CHECK_EQ(lp.top[0].first, lp.token);  // greedy: the chosen token is the best one
      CHECK_NEAR(lp.top[0].second, lp.logprob, 1e-6);
      CHECK(lp.logprob <= 0.f);
      for (size_t i = 1; i < lp.top.size(); ++i) CHECK(lp.top[i - 1].second >= lp.top[i].second);
    }
    ++steps;
  }
  CHECK(steps >= 4);
  (void)plain;
}
