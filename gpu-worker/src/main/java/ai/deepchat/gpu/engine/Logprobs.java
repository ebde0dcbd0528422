package ai.deepchat.gpu.engine;

/**
 * A generated token's log-probability under the model's raw distribution (log_softmax of the logits,
 * before repetition penalty, temperature, top-k and top-p) and the most likely tokens of its step,
 * best first ({@code topIds[i]} has {@code topLogprobs[i]}).
 */
public record Logprobs(float logprob, int[] topIds, float[] topLogprobs) {
}
