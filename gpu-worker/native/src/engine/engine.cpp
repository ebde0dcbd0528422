#include "engine/engine.h"

#include <algorithm>
#include <limits>
#include <new>

#include "common/error.h"
#include "common/op_timer.h"
#include "engine/token_mask.h"
#include "loader/safetensors.h"

namespace dse {

std::unique_ptr<Engine> Engine::load(const std::string& model_dir, const EngineOptions& opts) {
  ModelConfig cfg = load_model_config(model_dir);
  auto src = std::make_unique<SafetensorsSource>(model_dir);
  return std::make_unique<Engine>(std::move(src), cfg, opts);
}

Engine::Engine(std::unique_ptr<TensorSource> src, const ModelConfig& cfg, const EngineOptions& opts)
    : opts_(opts) {
  if (opts_.max_sequences <= 0) fail(ErrorKind::kBadRequest, "max_sequences must be > 0");
  if (opts_.threads < 0) fail(ErrorKind::kBadRequest, "threads must be >= 0");
  BackendOptions bo;
  bo.spec = opts.backend;
  bo.threads = opts.threads;
  bo.load.int8 = opts.int8;
  bo.load.fp8_block = cfg.fp8_block;
  bo.slots = opts.max_sequences + 1;  // the extra slot serves forward_logits
  backend_ = make_backend(cfg, *src, bo);
  src.reset();  // weights are copied into backend memory; drop the mapping or source buffers
  max_context_ = opts.max_context > 0 ? std::min(opts.max_context, cfg.max_position) : cfg.max_position;
  slot_busy_.assign(static_cast<size_t>(opts.max_sequences), false);
}

Engine::~Engine() = default;

void Engine::validate_prompt(const std::vector<int>& tokens) const {
  if (tokens.empty()) fail(ErrorKind::kBadRequest, "prompt is empty");
  if (static_cast<int64_t>(tokens.size()) > max_context_)
    fail(ErrorKind::kBadRequest, "prompt of " + std::to_string(tokens.size()) + " tokens is longer than the context of " +
                                     std::to_string(max_context_) + " tokens");
  const int vocab = config().vocab_size;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      fail(ErrorKind::kBadRequest, "prompt token " + std::to_string(i) + " has id " + std::to_string(tokens[i]) +
                                       " outside the vocabulary of " + std::to_string(vocab));
}

std::shared_ptr<const LoraAdapter> Engine::adapter_of(int adapter) const {
  if (adapter == 0) return nullptr;
  auto it = adapters_.find(adapter);
  if (it == adapters_.end()) fail(ErrorKind::kBadRequest, "no LoRA adapter " + std::to_string(adapter) + " is loaded");
  return it->second;
}

int Engine::load_adapter(const std::string& dir) {
  std::shared_ptr<const LoraAdapter> a;
  try {
    a = backend_->load_adapter(dir);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kOutOfMemory, "out of memory while loading the LoRA adapter " + dir);
  }
  std::lock_guard<std::mutex> lk(mu_);
  const int id = next_adapter_++;
  adapters_.emplace(id, std::move(a));
  return id;
}

void Engine::unload_adapter(int adapter) {
  std::lock_guard<std::mutex> lk(mu_);
  if (adapters_.erase(adapter) == 0)
    fail(ErrorKind::kBadRequest, "no LoRA adapter " + std::to_string(adapter) + " is loaded");
}

std::vector<int> Engine::adapters() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<int> ids;
  for (const auto& kv : adapters_) ids.push_back(kv.first);
  return ids;
}

int Engine::start(const std::vector<int>& prompt, const SamplingParams& sampling, int adapter) {
  std::lock_guard<std::mutex> lk(mu_);
  validate_prompt(prompt);
  validate_sampling(sampling);
  std::shared_ptr<const LoraAdapter> lora = adapter_of(adapter);
  auto free_slot = std::find(slot_busy_.begin(), slot_busy_.end(), false);
  if (free_slot == slot_busy_.end())
    fail(ErrorKind::kBadRequest, "all " + std::to_string(opts_.max_sequences) + " sequence slots are busy");
  Seq s;
  s.id = next_id_++;
  s.slot = static_cast<int>(free_slot - slot_busy_.begin());
  s.prompt = prompt;
  s.params = sampling;
  s.adapter = std::move(lora);
  const int64_t capacity =
      std::min<int64_t>(max_context_, static_cast<int64_t>(prompt.size()) + sampling.max_tokens);
  try {
    s.sampler = std::make_unique<Sampler>(sampling, config().vocab_size);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kOutOfMemory, "cannot allocate sampler state");
  }
  for (int t : prompt) s.sampler->observe(t);
  backend_->open_sequence(s.slot, capacity);
  *free_slot = true;
  const int id = s.id;
  seqs_.emplace(id, std::move(s));
  return id;
}

void Engine::release(Seq& s) {
  backend_->close_sequence(s.slot);
  slot_busy_[s.slot] = false;
}

void Engine::cancel(int seq_id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = seqs_.find(seq_id);
  if (it == seqs_.end()) return;
  StepEvent ev;
  ev.seq_id = seq_id;
  ev.finish = FinishReason::kCancelled;
  ev.prompt_tokens = static_cast<int>(it->second.prompt.size());
  ev.completion_tokens = it->second.generated;
  pending_.push_back(ev);
  release(it->second);
  seqs_.erase(it);
}

void Engine::request_logprobs(int seq_id, int k) {
  if (k < 0 || k > 20) fail(ErrorKind::kBadRequest, "top_logprobs must be 0 to 20, got " + std::to_string(k));
  std::lock_guard<std::mutex> lk(mu_);
  auto it = seqs_.find(seq_id);
  if (it == seqs_.end()) return;
  it->second.top_logprobs = k;
  if (!it->second.logprobs) it->second.logprobs = std::make_unique<StepLogprobs>();
}

std::vector<TokenLogprobs> Engine::last_logprobs() const {
  std::lock_guard<std::mutex> lk(mu_);
  return last_logprobs_;
}

void Engine::set_token_mask(int seq_id, std::vector<uint64_t> mask) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = seqs_.find(seq_id);
  if (it == seqs_.end()) return;
  if (!mask.empty() && count_allowed(mask, config().vocab_size) == 0)
    fail(ErrorKind::kBadRequest, "token mask of sequence " + std::to_string(seq_id) + " allows no token");
  it->second.token_mask = std::move(mask);
}

int Engine::active() const {
  std::lock_guard<std::mutex> lk(mu_);
  return static_cast<int>(seqs_.size());
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  const Backend::KvUsage kv = backend_->kv_usage();
  EngineStats s;
  s.active = static_cast<int>(seqs_.size());
  s.kv_used_tokens = kv.used_tokens;
  s.kv_total_tokens = kv.total_tokens > 0 ? kv.total_tokens : int64_t(opts_.max_sequences) * max_context_;
  return s;
}

std::vector<StepEvent> Engine::step() {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<StepEvent> events;
  events.swap(pending_);
  last_logprobs_.clear();
  if (seqs_.empty()) return events;

  // Prompts are fed in chunks of at most prefill_chunk rows per step, so one long prompt does not
  // stall the decode of every other sequence (nor size the scratch buffers) for its whole length.
  batch_.clear();
  std::vector<Seq*> fed;      // sequences in this batch, with fed_rows set
  std::vector<Seq*> sampled;  // sequences with a logits row, in batch (= logits) order
  const int chunk = opts_.prefill_chunk > 0 ? opts_.prefill_chunk : std::numeric_limits<int>::max();
  for (auto& kv : seqs_) {
    Seq& s = kv.second;
    const int P = static_cast<int>(s.prompt.size());
    if (s.cached < P) {
      const int n = std::min(P - s.cached, chunk);
      for (int i = s.cached; i < s.cached + n; ++i)
        batch_.push_back({s.prompt[i], i, s.slot, i + 1 == P, s.adapter.get()});
      s.fed_rows = n;
      if (s.cached + n == P) sampled.push_back(&s);
    } else {
      batch_.push_back({s.last_token, s.cached, s.slot, true, s.adapter.get()});
      s.fed_rows = 1;
      sampled.push_back(&s);
    }
    fed.push_back(&s);
  }
  const int vocab = config().vocab_size;
  if (logits_.size() < sampled.size() * static_cast<size_t>(vocab)) logits_.resize(sampled.size() * vocab);
  try {
    backend_->forward(batch_, logits_.data());
  } catch (...) {
    pending_ = std::move(events);  // keep the cancellations for the caller's next step
    throw;
  }
  for (Seq* s : fed) s->cached += s->fed_rows;

  for (size_t i = 0; i < sampled.size(); ++i) {
    Seq& s = *sampled[i];
    if (s.logprobs) s.logprobs->observe(logits_.data() + i * vocab, vocab, s.top_logprobs);
    if (!s.token_mask.empty()) apply_token_mask(logits_.data() + i * vocab, vocab, s.token_mask);
    const int tok = [&] {
      DSE_TIME_OP(op_timer::kSample);
      return s.sampler->sample(logits_.data() + i * vocab);
    }();
    ++s.generated;
    StepEvent ev;
    ev.seq_id = s.id;
    ev.prompt_tokens = static_cast<int>(s.prompt.size());
    const auto& stops = s.params.stop_token_ids;
    if (std::find(stops.begin(), stops.end(), tok) != stops.end()) {
      ev.finish = FinishReason::kStop;  // the stop token itself is not delivered
      ev.completion_tokens = s.generated - 1;
    } else {
      ev.token = tok;
      ev.completion_tokens = s.generated;
      if (s.logprobs) {
        last_logprobs_.push_back(s.logprobs->chosen(tok));
        last_logprobs_.back().seq_id = s.id;
      }
      s.last_token = tok;
      s.sampler->observe(tok);
      const int total = static_cast<int>(s.prompt.size()) + s.generated;
      if (s.generated >= s.params.max_tokens || total >= max_context_) ev.finish = FinishReason::kLength;
    }
    events.push_back(ev);
  }
  for (const auto& ev : events) {
    if (ev.finish == FinishReason::kStop || ev.finish == FinishReason::kLength) {
      auto it = seqs_.find(ev.seq_id);
      release(it->second);
      seqs_.erase(it);
    }
  }
  return events;
}

std::vector<float> Engine::forward_logits(const std::vector<int>& tokens, bool all_positions, int adapter) {
  std::lock_guard<std::mutex> lk(mu_);
  validate_prompt(tokens);
  const std::shared_ptr<const LoraAdapter> lora = adapter_of(adapter);
  const int slot = opts_.max_sequences;
  const int vocab = config().vocab_size;
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < tokens.size(); ++i)
    batch.push_back({tokens[i], static_cast<int32_t>(i), slot, all_positions || i + 1 == tokens.size(), lora.get()});
  std::vector<float> out(static_cast<size_t>(all_positions ? tokens.size() : 1) * vocab);
  backend_->open_sequence(slot, static_cast<int64_t>(tokens.size()));
  try {
    backend_->forward(batch, out.data());
  } catch (...) {
    backend_->close_sequence(slot);
    throw;
  }
  backend_->close_sequence(slot);
  return out;
}

}  // namespace dse
