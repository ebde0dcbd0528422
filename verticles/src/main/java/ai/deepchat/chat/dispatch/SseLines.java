package ai.deepchat.chat.dispatch;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Cuts a streamed answer's chunks into lines ({@code \n}-terminated, the {@code \n} left off, a {@code \r}
 * kept as {@code RecordParser} kept it) and hands each over as a range of a byte array: a line that lies
 * whole in one chunk is read straight from the chunk's bytes, only a line split across chunks is copied
 * (into a carry-over buffer reused for the stream). Replaces a {@code RecordParser}, which appended every
 * chunk to its own buffer and copied every line into a new {@link Buffer}, a copy the line reader then
 * copied again (#25). One per stream, used on the stream's context only.
 */
final class SseLines {

  /** What takes a line: bytes {@code [from, to)} of {@code b}, valid only during the call. */
  interface Sink {
    void line(byte[] b, int from, int to);
  }

  private final int maxLine;
  private final Sink sink;
  private byte[] carry = new byte[256];
  private int carried;
  private byte[] scratch = new byte[0];

  /** {@code maxLine}: the longest line taken; a longer one makes {@link #accept} return false. */
  SseLines(int maxLine, Sink sink) {
    this.maxLine = maxLine;
    this.sink = sink;
  }

  /**
   * Takes one chunk. False when a line grew past the limit (nothing of it was handed over): the caller
   * ends the stream.
   */
  boolean accept(Buffer chunk) {
    ByteBuf buf = ((BufferInternal) chunk).getByteBuf();
    int length = buf.readableBytes();
    byte[] b;
    int from;
    if (buf.hasArray()) {
      b = buf.array();
      from = buf.arrayOffset() + buf.readerIndex();
    } else {
      if (scratch.length < length) {
        scratch = new byte[Math.max(length, 2 * scratch.length)];
      }
      buf.getBytes(buf.readerIndex(), scratch, 0, length);
      b = scratch;
      from = 0;
    }
    return accept(b, from, from + length);
  }

  /** Takes bytes {@code [from, to)} of {@code b}; false as for {@link #accept(Buffer)}. */
  boolean accept(byte[] b, int from, int to) {
    int start = from;
    for (int i = from; i < to; i++) {
      if (b[i] != '\n') {
        continue;
      }
      if (carried > 0) {
        if (!carry(b, start, i)) {
          return false;
        }
        int n = carried;
        carried = 0;
        sink.line(carry, 0, n);
      } else {
        if (i - start > maxLine) {
          return false;
        }
        sink.line(b, start, i);
      }
      start = i + 1;
    }
    return carry(b, start, to);
  }

  private boolean carry(byte[] b, int from, int to) {
    int n = to - from;
    if (carried + n > maxLine) {
      return false;
    }
    if (carried + n > carry.length) {
      byte[] bigger = new byte[Math.max(carried + n, 2 * carry.length)];
      System.arraycopy(carry, 0, bigger, 0, carried);
      carry = bigger;
    }
    System.arraycopy(b, from, carry, carried, n);
    carried += n;
    return true;
  }
}
