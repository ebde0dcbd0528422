package ai.deepchat.canary.metrics;

/** Turns text into a vector for comparing answers. Blocking: call from a worker thread only. */
public interface TextEmbedder {

  float[] embed(String text);
}
