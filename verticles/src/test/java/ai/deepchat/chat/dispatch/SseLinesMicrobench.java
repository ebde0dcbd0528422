package ai.deepchat.chat.dispatch;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import java.lang.management.ManagementFactory;

/**
 * Not a test: CPU time per upstream chunk carrying one token line (an OpenAI chunk and its blank line), the
 * eighth session's reading (RecordParser, StreamedLine.read of a Buffer) against SseLines with Jackson and
 * SseLines with the stream's Reader (#25). Run: docs/performance.md, ninth session, helper "sse".
 */
public class SseLinesMicrobench {
  static long sink;
  public static void main(String[] a) {
    String line = "data: {\"id\":\"chatcmpl-1f6b0c2e\",\"object\":\"chat.completion.chunk\",\"created\":1765070000,\"model\":\"deepseek-chat\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ok\"},\"finish_reason\":null}]}\n\n";
    Buffer chunk = Buffer.buffer(line);
    var mx = ManagementFactory.getThreadMXBean();
    for (int round = 0; round < 6; round++) {
      int n = 500_000;
      RecordParser rp = RecordParser.newDelimited("\n", b -> { StreamedLine.Read r = StreamedLine.read(b); if (r != null && r.content() != null) sink += r.content().length(); });
      rp.maxRecordSize(4 << 20);
      long t0 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) rp.handle(chunk);
      long t1 = mx.getCurrentThreadCpuTime();
      StreamedLine.Reader reader = new StreamedLine.Reader();
      SseLines lines = new SseLines(4 << 20, (b, f, t) -> { StreamedLine.Read r = reader.read(b, f, t); if (r != null && r.content() != null) sink += r.content().length(); });
      long t2 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) lines.accept(chunk);
      long t3 = mx.getCurrentThreadCpuTime();
      SseLines jackson = new SseLines(4 << 20, (b, f, t) -> { StreamedLine.Read r = StreamedLine.read(b, f, t); if (r != null && r.content() != null) sink += r.content().length(); });
      long t4 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) jackson.accept(chunk);
      long t5 = mx.getCurrentThreadCpuTime();
      System.out.printf("round %d: RecordParser+read(Buffer) %.0f ns, SseLines+Jackson %.0f ns, SseLines+Reader %.0f ns per chunk (CPU time)%n",
          round, (t1 - t0) / (double) n, (t5 - t4) / (double) n, (t3 - t2) / (double) n);
    }
    System.out.println(sink);
  }
}
