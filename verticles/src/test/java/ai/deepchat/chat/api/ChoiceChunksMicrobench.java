package ai.deepchat.chat.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;

/**
 * Not a test: CPU time and bytes allocated per streamed API turn by its opening and finish chunks, built as a
 * JSON tree (how {@link ChatApiModule} built them before) and as text ({@link ChoiceChunks}), rounds 6-10 of 10
 * (#25). Run: docs/performance.md, fifteenth session, helper "turnloops".
 */
public class ChoiceChunksMicrobench {
  static String tree(JsonObject envelope, int index, JsonObject delta, String finishReason) {
    return "data: " + envelope.copy()
        .put("choices", new JsonArray().add(new JsonObject().put("index", index).put("delta", delta)
            .put("finish_reason", finishReason)))
        .encode() + "\n\n";
  }

  public static void main(String[] a) {
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    JsonObject envelope = new JsonObject().put("id", "chatcmpl-6f1c2d9e-8b1a-4c3e-9f0a-0c2b7e5d4a11")
        .put("object", "chat.completion.chunk").put("created", 1_765_000_000L).put("model", "deepseek-chat")
        .put("conversation_id", "0c2b7e5d-4a11-4c3e-9f0a-6f1c2d9e8b1a");
    String e = envelope.encode();
    String prefix = "data: " + e.substring(0, e.length() - 1) + ",\"choices\":[{\"index\":";
    int n = 200_000;
    long sink = 0;
    for (int r = 0; r < 10; r++) {
      for (int mode = 0; mode < 2; mode++) {
        long c0 = mx.getCurrentThreadCpuTime(), b0 = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
        for (int i = 0; i < n; i++) {
          if (mode == 0) {
            sink += tree(envelope, 0, new JsonObject().put("role", "assistant").put("content", ""), null).length();
            sink += tree(envelope, 0, new JsonObject(), "stop").length();
          } else {
            String choicePrefix = prefix + 0;
            sink += ChoiceChunks.opening(choicePrefix).length();
            sink += ChoiceChunks.finish(choicePrefix, "stop").length();
          }
        }
        long c1 = mx.getCurrentThreadCpuTime(), b1 = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
        if (r >= 5) {
          System.out.printf("round %d %s: %.0f ns, %d B per turn%n", r, mode == 0 ? "tree" : "text", (c1 - c0) / (double) n, (b1 - b0) / n);
        }
      }
    }
    System.out.println(sink);
  }
}
