package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A validated legacy {@code /v1/completions} request: a raw prompt (a string, or an array of exactly
 * one string), OpenAI's sampling fields, {@code logprobs} as the legacy integer (0-5 alternatives),
 * {@code echo}. What would change the output and is not supported ({@code suffix}, several prompts,
 * token-id prompts, {@code best_of} above n) is refused naming the field, never ignored.
 */
record TextCompletionRequest(String model, String prompt, boolean stream, boolean echo, SamplingParams sampling,
                             String user) {

  static final int MAX_PROMPT_CHARS = 1 << 20;
  static final int MAX_LOGPROBS = 5;

  static TextCompletionRequest parse(JsonObject body, int maxChoices) {
    String model = CompletionRequest.optionalString(body, "model", 200);
    String prompt = prompt(body.getValue("prompt"));
    if (body.getValue("suffix") != null) {
      throw CompletionRequest.bad("suffix", "'suffix' (insertion) is not supported.");
    }
    boolean stream = CompletionRequest.bool(body, "stream");
    boolean echo = CompletionRequest.bool(body, "echo");
    Integer maxTokens = CompletionRequest.integer(body, "max_tokens", 1, 1 << 16);
    double temperature = CompletionRequest.number(body, "temperature", 0, 2, 1.0);
    double topP = CompletionRequest.number(body, "top_p", 0, 1, 1.0);
    if (topP == 0) {
      throw CompletionRequest.bad("top_p", "'top_p' must be greater than 0.");
    }
    List<String> stop = CompletionRequest.stop(body.getValue("stop"));
    Integer logprobs = CompletionRequest.integer(body, "logprobs", 0, MAX_LOGPROBS);
    int n = CompletionRequest.n(body, maxChoices);
    Integer bestOf = CompletionRequest.integer(body, "best_of", 1, maxChoices);
    if (bestOf != null && bestOf != n) {
      throw CompletionRequest.bad("best_of", "'best_of' other than n is not supported.");
    }
    if (echo && logprobs != null) {
      throw CompletionRequest.bad("echo", "'echo' with 'logprobs' (the prompt's log-probabilities) is not supported.");
    }
    String user = CompletionRequest.optionalString(body, "user", 256);
    SamplingParams sampling = new SamplingParams(temperature, topP, 0, 1.0, CompletionRequest.seed(body),
        maxTokens == null ? 16 : maxTokens, stop, null, logprobs == null ? -1 : logprobs, n);
    return new TextCompletionRequest(model, prompt, stream, echo, sampling, user);
  }

  private static String prompt(Object value) {
    Object one = value instanceof JsonArray arr && arr.size() == 1 ? arr.getValue(0) : value;
    if (!(one instanceof String s)) {
      throw CompletionRequest.bad("prompt", "'prompt' must be a string (or an array of one string); several "
          + "prompts and token ids are not supported.");
    }
    if (s.isEmpty() || s.length() > MAX_PROMPT_CHARS) {
      throw CompletionRequest.bad("prompt", "'prompt' must be 1 to " + MAX_PROMPT_CHARS + " characters.");
    }
    return s;
  }
}
