package ai.deepchat.rag;

/**
 * A knowledge base's re-embedding into {@code model}: "running" (searches still use the old model),
 * "ready" (embedded and indexed, waiting for the switch: {@code autoSwitch} was false), "done"
 * (switched), "failed" or "cancelled" (the old model kept); {@code done} of {@code total} chunks
 * embedded so far.
 */
public record Reembedding(String model, String status, int done, int total, String error, boolean autoSwitch) {

  public boolean running() {
    return "running".equals(status);
  }
}
