package ai.deepchat.chat.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * The body of a streamed completion (SSE): written as it is, or gzip-compressed here when the client asks
 * for gzip. Netty's compressor, which the gateway's server otherwise applies, ran every SSE chunk through an
 * embedded channel of its own with a promise, a message list and a buffer per chunk; the profile put it at
 * two thirds of an SSE write's Java time (#25). Here one deflater per stream compresses each chunk and
 * flushes it (sync flush, as Netty did: every event reaches the client at once), and the response carries
 * {@code Content-Encoding: gzip}, which makes Netty's compressor pass it through. Only where Netty would
 * have chosen gzip (the client accepts it at full weight and names nothing else a server might prefer);
 * any other Accept-Encoding is left to Netty as before. Used on the response's context only.
 */
abstract class SseBody {

  /**
   * Deflate's fastest level: an SSE chunk is a few hundred bytes that repeat the stream's previous chunk but for
   * the token, and flushed on its own it compresses as well at level 1 as at the gateway's 6 (13.0 against 12.7
   * bytes per 269-byte chunk of varied words, SseGzipMicrobench), for about a fifth less CPU per chunk (#25).
   */
  static final int LEVEL = 1;

  final HttpServerResponse resp;

  private SseBody(HttpServerResponse resp) {
    this.resp = resp;
  }

  /** The body for {@code resp}; call before anything is written. */
  static SseBody of(HttpServerRequest req, HttpServerResponse resp) {
    if (gzipAsked(req.getHeader(HttpHeaders.ACCEPT_ENCODING))) {
      resp.putHeader(HttpHeaders.CONTENT_ENCODING, "gzip");
      return new Gzip(resp);
    }
    return new Plain(resp);
  }

  /** Writes one or more SSE events (whole: a compressed stream flushes here). */
  abstract void write(String events);

  /** Writes {@code len} bytes of {@code events} (whole SSE events, UTF-8), copied: the array may be reused after. */
  abstract void write(byte[] events, int len);

  /** Writes the last events and ends the response. */
  abstract void end(String events);

  /** Frees what the body holds when the response ended otherwise (the client left); idempotent. */
  abstract void release();

  /**
   * Whether Netty's compressor (gzip and deflate offered, as Vert.x sets it up) would pick gzip for this
   * Accept-Encoding, decided conservatively: a "gzip" entry without a weight or with weight 1, and no entry
   * but gzip, deflate, identity and "*". Anything else (weights, br, zstd, ...) stays with Netty.
   */
  static boolean gzipAsked(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    boolean gzip = false;
    for (String entry : acceptEncoding.split(",")) {
      String[] parts = entry.split(";");
      String coding = parts[0].strip().toLowerCase(Locale.ROOT);
      if (coding.equals("gzip")) {
        if (parts.length > 2 || parts.length == 2 && !fullWeight(parts[1])) {
          return false;
        }
        gzip = true;
      } else if (!coding.equals("deflate") && !coding.equals("identity") && !coding.equals("*")) {
        return false;
      }
    }
    return gzip;
  }

  private static boolean fullWeight(String param) {
    String p = param.strip().toLowerCase(Locale.ROOT).replace(" ", "");
    return p.matches("q=1(\\.0{0,3})?");
  }

  private static final class Plain extends SseBody {
    Plain(HttpServerResponse resp) {
      super(resp);
    }

    @Override
    void write(String events) {
      resp.write(events);
    }

    @Override
    void write(byte[] events, int len) {
      resp.write(Buffer.buffer(len).appendBytes(events, 0, len));
    }

    @Override
    void end(String events) {
      resp.end(events);
    }

    @Override
    void release() {
    }
  }

  /** RFC 1952: a 10-byte header, raw deflate, then CRC-32 and length (both little-endian) at the end. */
  private static final class Gzip extends SseBody {
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final Deflater deflater = new Deflater(LEVEL, true);
    private final CRC32 crc = new CRC32();
    private byte[] out = new byte[512];
    private boolean started;
    private boolean released;

    Gzip(HttpServerResponse resp) {
      super(resp);
    }

    @Override
    void write(String events) {
      resp.write(Buffer.buffer(compress(events, false)));
    }

    @Override
    void write(byte[] events, int len) {
      resp.write(Buffer.buffer(compress(events, len, false)));
    }

    @Override
    void end(String events) {
      Buffer last = Buffer.buffer(compress(events, true));
      release();
      resp.end(last);
    }

    @Override
    void release() {
      if (!released) {
        released = true;
        deflater.end();
      }
    }

    private byte[] compress(String events, boolean finish) {
      byte[] in = events.getBytes(StandardCharsets.UTF_8);
      return compress(in, in.length, finish);
    }

    private byte[] compress(byte[] in, int len, boolean finish) {
      crc.update(in, 0, len);
      deflater.setInput(in, 0, len);
      int n = 0;
      if (!started) {
        started = true;
        System.arraycopy(HEADER, 0, out, 0, HEADER.length);
        n = HEADER.length;
      }
      if (finish) {
        deflater.finish();
        while (!deflater.finished()) {
          n = room(n);
          n += deflater.deflate(out, n, out.length - n);
        }
        n = room(n + 8) - 8;
        n = le32(le32(n, (int) crc.getValue()), (int) deflater.getBytesRead());
      } else {
        // sync flush: all input out, byte-aligned; a full output array means there may be more
        do {
          n = room(n);
          n += deflater.deflate(out, n, out.length - n, Deflater.SYNC_FLUSH);
        } while (n == out.length);
      }
      return java.util.Arrays.copyOf(out, n);
    }

    /** {@code n} bytes are used; makes room for at least 64 more (or {@code n} itself) and returns {@code n}. */
    private int room(int n) {
      if (out.length - n < 64) {
        out = java.util.Arrays.copyOf(out, Math.max(2 * out.length, n + 64));
      }
      return n;
    }

    private int le32(int at, int v) {
      out[at] = (byte) v;
      out[at + 1] = (byte) (v >>> 8);
      out[at + 2] = (byte) (v >>> 16);
      out[at + 3] = (byte) (v >>> 24);
      return at + 4;
    }
  }
}
