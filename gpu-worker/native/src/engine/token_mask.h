// Constrained decoding's hook in sampling: a bitmask of the tokens a sequence may take next (bit i
// of word i / 64 for token i), computed by the Java automaton between steps and applied to the
// logits before any other sampling step, so greedy, top-k, top-p and temperature all choose among
// allowed tokens only. Sampling runs on the host for every backend (CUDA copies logits back), so
// this one function serves CPU and CUDA alike.
#pragma once
#include <cstdint>
#include <vector>

namespace dse {

// Number of tokens below `vocab` the mask allows.
int count_allowed(const std::vector<uint64_t>& mask, int vocab);

// Sets the logit of every token the mask does not allow to -infinity; tokens past the mask's words
// are disallowed too.
void apply_token_mask(float* logits, int vocab, const std::vector<uint64_t>& mask);

}  // namespace dse
