package ai.deepchat.chat.api;

import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import io.vertx.core.buffer.Buffer;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Not a test: CPU time and bytes allocated per SSE delta chunk from the event to what SseBody hands to Vert.x,
 * the ninth session's way (DeltaChunk.sse's string, then its UTF-8 bytes) against the stream's reused byte array
 * (DeltaChunk.Bytes), gzip (level 1, sync flush: SseBody's deflater) and plain (a Buffer) (#25). Run:
 * docs/performance.md, tenth session, helper "token".
 */
public class DeltaChunkMicrobench {
  static long sink;

  public static void main(String[] a) {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    String prefix = "data: {\"id\":\"chatcmpl-1f6b0c2e-aaaa-bbbb-cccc-0123456789ab\",\"object\":\"chat.completion.chunk\","
        + "\"created\":1765070000,\"model\":\"deepseek-chat\",\"conversation_id\":\"5b0f7c1e-aaaa-bbbb-cccc-0123456789ab\","
        + "\"choices\":[{\"index\":0,\"delta\":";
    String[] words = {" the", " shop", " opens", " at", " nine", ",", " closes", " at", " six", "."};
    TurnEvent[] events = new TurnEvent[words.length];
    for (int i = 0; i < words.length; i++) {
      events[i] = TurnEvent.delta("t", words[i], null);
    }
    int n = 300_000;
    for (int round = 0; round < 8; round++) {
      StringBuilder line = new StringBuilder("round " + round + ":");
      for (boolean bytes : new boolean[] {false, true}) {
        for (boolean gzip : new boolean[] {true, false}) {
          Deflater deflater = new Deflater(SseBody.LEVEL, true);
          CRC32 crc = new CRC32();
          byte[] out = new byte[512];
          DeltaChunk.Bytes chunk = new DeltaChunk.Bytes(prefix);
          long c0 = mx.getCurrentThreadCpuTime();
          long b0 = mx.getThreadAllocatedBytes(tid);
          for (int i = 0; i < n; i++) {
            TurnEvent e = events[i % events.length];
            byte[] in;
            int len;
            if (!bytes && !gzip) {
              sink += Buffer.buffer(DeltaChunk.sse(prefix, e)).length(); // the plain body wrote the string
              continue;
            }
            if (bytes) {
              in = chunk.encode(e);
              len = chunk.length();
            } else {
              in = DeltaChunk.sse(prefix, e).getBytes(StandardCharsets.UTF_8);
              len = in.length;
            }
            if (gzip) {
              crc.update(in, 0, len);
              deflater.setInput(in, 0, len);
              int m = deflater.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
              sink += Buffer.buffer(java.util.Arrays.copyOf(out, m)).length();
            } else {
              sink += Buffer.buffer(len).appendBytes(in, 0, len).length();
            }
          }
          long c1 = mx.getCurrentThreadCpuTime();
          long b1 = mx.getThreadAllocatedBytes(tid);
          deflater.end();
          line.append(String.format(" %s %s %.0f ns %.0f B;", bytes ? "bytes" : "string", gzip ? "gzip" : "plain",
              (c1 - c0) / (double) n, (b1 - b0) / (double) n));
        }
      }
      System.out.println(line);
    }
    System.out.println(sink);
  }
}
