package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;

import java.util.List;

/**
 * The n choices of one request: each is a turn of its own with seed {@code seed + i}, so a request
 * with a seed gives the same n answers again, and its usage counts the prompt once. How many one
 * request may ask for is CHAT_MAX_CHOICES.
 */
final class Choices {

  private Choices() {
  }

  /** Choice {@code i}'s sampling: one choice, seed + i. */
  static SamplingParams sampling(SamplingParams request, int i) {
    return new SamplingParams(request.temperature(), request.topP(), request.topK(), request.repetitionPenalty(),
        request.seed() + i, request.maxTokens(), request.stop(), request.constraint(), request.topLogprobs(), 1);
  }

  /** The prompt once (each choice read the same one), every choice's completion tokens; null usages count 0. */
  static Usage usage(List<Usage> perChoice) {
    int prompt = 0;
    int completion = 0;
    for (Usage u : perChoice) {
      if (u != null) {
        prompt = Math.max(prompt, u.promptTokens());
        completion += u.completionTokens();
      }
    }
    return new Usage(prompt, completion);
  }
}
