package ai.deepchat.chat.api;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.*;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Not a test: CPU time per SSE chunk through Netty's HTTP response encoder, gzip by Netty's compressor (as the
 * gateway did), by a deflater per stream with the compressor passing the chunk through (SseBody's calls) at
 * levels 6 and 1, and uncompressed (#25). Run: docs/performance.md, ninth session, helper "sse".
 */
@SuppressWarnings("deprecation")
public class SseGzipMicrobench {
  static final String SSE = "data: {\"id\":\"chatcmpl-1f6b0c2e-aaaa-bbbb-cccc-0123456789ab\",\"object\":\"chat.completion.chunk\",\"created\":1765070000,\"model\":\"deepseek-chat\",\"conversation_id\":\"5b0f7c1e-aaaa-bbbb-cccc-0123456789ab\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ok\"},\"finish_reason\":null}]}\n\n";
  static long bytes; static int level = 6; static boolean identity;
  public static void main(String[] a) {
    var mx = ManagementFactory.getThreadMXBean();
    for (int round = 0; round < 5; round++) {
      int streams = 200, chunks = 500;
      long t0 = mx.getCurrentThreadCpuTime();
      for (int s = 0; s < streams; s++) run(true, chunks);
      long t1 = mx.getCurrentThreadCpuTime();
      for (int s = 0; s < streams; s++) run(false, chunks);
      long t2 = mx.getCurrentThreadCpuTime();
      level = 1;
      for (int s = 0; s < streams; s++) run(false, chunks);
      long t3 = mx.getCurrentThreadCpuTime(); level = 6; identity = true;
      for (int s = 0; s < streams; s++) run(false, chunks);
      long t4 = mx.getCurrentThreadCpuTime(); identity = false;
      System.out.printf("round %d: Netty's compressor %.0f ns, own deflater %.0f ns, own level 1 %.0f ns, no compression %.0f ns per chunk (CPU time)%n", round,
          (t1 - t0) / (double) (streams * chunks), (t2 - t1) / (double) (streams * chunks), (t3 - t2) / (double) (streams * chunks), (t4 - t3) / (double) (streams * chunks));
    }
    System.out.println(bytes);
    // size: 512 chunks of one stream, each token a different word, each chunk flushed on its own
    String[] words = ("the of and to in is that for it as with was on be by this are or at from have an they which one"
        + " you were her all she there would their we him been has when who will more no if out so said what up its").split(" ");
    for (int lvl : new int[] {1, 6}) {
      java.util.Random r = new java.util.Random(1);
      Deflater d = new Deflater(lvl, true);
      byte[] out = new byte[4096];
      long raw = 0;
      long packed = 0;
      for (int i = 0; i < 512; i++) {
        byte[] in = SSE.replace("\" ok\"", "\" " + words[r.nextInt(words.length)] + "\"").getBytes(StandardCharsets.UTF_8);
        raw += in.length;
        d.setInput(in);
        packed += d.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
      }
      d.end();
      System.out.printf("level %d: %.1f bytes per chunk of %.1f (varied words, sync flush per chunk)%n", lvl, packed / 512.0, raw / 512.0);
    }
  }

  static void run(boolean netty, int chunks) {
    EmbeddedChannel ch = new EmbeddedChannel(new HttpResponseEncoder(), new HttpContentCompressor(6));
    DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions");
    req.headers().set(HttpHeaderNames.ACCEPT_ENCODING, "gzip");
    ch.writeInbound(req);
    ch.readInbound();
    DefaultHttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    resp.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED).set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
    Deflater d = null; CRC32 crc = null; byte[] out = new byte[512];
    if (identity) { resp.headers().set(HttpHeaderNames.CONTENT_ENCODING, "identity"); }
    else if (!netty) { resp.headers().set(HttpHeaderNames.CONTENT_ENCODING, "gzip"); d = new Deflater(level, true); crc = new CRC32(); }
    ch.writeOutbound(resp);
    drain(ch);
    for (int i = 0; i < chunks; i++) {
      ByteBuf content;
      if (netty || identity) {
        content = Unpooled.wrappedBuffer(SSE.getBytes(StandardCharsets.UTF_8));
      } else {
        byte[] in = SSE.getBytes(StandardCharsets.UTF_8);
        crc.update(in); d.setInput(in);
        int n = i == 0 ? 10 : 0;
        do { if (out.length - n < 64) out = java.util.Arrays.copyOf(out, out.length * 2); n += d.deflate(out, n, out.length - n, Deflater.SYNC_FLUSH); } while (n == out.length);
        content = Unpooled.wrappedBuffer(java.util.Arrays.copyOf(out, n));
      }
      ch.writeOutbound(new DefaultHttpContent(content));
      drain(ch);
    }
    ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
    drain(ch);
    if (d != null) d.end();
    ch.finishAndReleaseAll();
  }

  static void drain(EmbeddedChannel ch) {
    Object o;
    while ((o = ch.readOutbound()) != null) {
      if (o instanceof ByteBuf b) { bytes += b.readableBytes(); b.release(); }
      else if (o instanceof io.netty.util.ReferenceCounted r) r.release();
    }
  }
}
