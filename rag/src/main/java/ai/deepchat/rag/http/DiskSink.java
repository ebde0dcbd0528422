package ai.deepchat.rag.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.streams.ReadStream;

/**
 * Writes a stream into a file as it arrives, with back-pressure, and stops at a byte limit: the source
 * is never held whole in memory and never read past the limit.
 */
final class DiskSink {

  /** Thrown (as the future's failure) once the stream passes the limit. */
  static final class TooLarge extends RuntimeException {
    TooLarge(long limit) {
      super("more than " + limit + " bytes", null, false, false);
    }
  }

  private DiskSink() {
  }

  /** Completes with the bytes written when {@code in} ends; the file is closed either way. */
  static Future<Long> write(ReadStream<Buffer> in, AsyncFile out, long limit) {
    Promise<Long> done = Promise.promise();
    long[] received = {0};
    in.handler(chunk -> {
      if (received[0] < 0) {
        return; // refused already: the rest is dropped
      }
      received[0] += chunk.length();
      if (received[0] > limit) {
        received[0] = -1;
        out.close();
        done.tryFail(new TooLarge(limit));
        return;
      }
      out.write(chunk);
      if (out.writeQueueFull()) {
        in.pause();
        out.drainHandler(drained -> in.resume());
      }
    });
    in.exceptionHandler(failure -> {
      if (received[0] >= 0) {
        received[0] = -1;
        out.close();
        done.tryFail(failure);
      }
    });
    in.endHandler(ended -> {
      if (received[0] >= 0) {
        long bytes = received[0];
        out.close().onComplete(closed -> {
          if (closed.failed()) {
            done.tryFail(closed.cause());
          } else {
            done.tryComplete(bytes);
          }
        });
      }
    });
    in.resume();
    return done.future();
  }
}
