package ai.deepchat.channel.wechat;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.ext.web.codec.spi.BodyStream;

/**
 * A picture a user sent, as the account's {@code media/get} returns it: read at most up to the size limit
 * (a larger body is cut off, not buffered) and accepted only when its first bytes are those of a JPEG,
 * PNG, GIF or WebP image, whatever the reply's Content-Type says.
 */
final class WechatMedia {

  /** A checked picture: its type (from its bytes) and the bytes. */
  record Picture(String contentType, Buffer data) {
  }

  /** The picture cannot be had (WeChat's error, too large, not an image): the user is told {@link #reply}. */
  static final class Refused extends RuntimeException {
    final String reply;

    Refused(String reason, String reply) {
      super(reason, null, false, false);
      this.reply = reply;
    }
  }

  static final String NOT_FETCHED = "图片未能获取，请重新发送，或用文字描述您的问题。(The picture could not be fetched: "
      + "please send it again, or describe your question in words.)";
  static final String TOO_LARGE = "图片太大，无法处理，请压缩后重新发送。(The picture is too large: please send a smaller one.)";
  static final String NOT_AN_IMAGE = "只能处理 JPEG、PNG、GIF 或 WebP 图片。(Only JPEG, PNG, GIF or WebP pictures can be read.)";

  private WechatMedia() {
  }

  /** The image type {@code data} starts as, or null when it is none of the four. */
  static String sniff(Buffer data) {
    if (starts(data, 0, 0xFF, 0xD8, 0xFF)) {
      return "image/jpeg";
    }
    if (starts(data, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      return "image/png";
    }
    if (starts(data, 0, 'G', 'I', 'F', '8') && (starts(data, 4, '7', 'a') || starts(data, 4, '9', 'a'))) {
      return "image/gif";
    }
    if (starts(data, 0, 'R', 'I', 'F', 'F') && starts(data, 8, 'W', 'E', 'B', 'P')) {
      return "image/webp";
    }
    return null;
  }

  /** {@code data} as a picture, or {@link Refused} when its bytes are no image of the four types. */
  static Picture picture(Buffer data) {
    String type = sniff(data);
    if (type == null) {
      throw new Refused("the media is not a JPEG, PNG, GIF or WebP image", NOT_AN_IMAGE);
    }
    return new Picture(type, data);
  }

  private static boolean starts(Buffer data, int at, int... bytes) {
    if (data.length() < at + bytes.length) {
      return false;
    }
    for (int i = 0; i < bytes.length; i++) {
      if ((data.getByte(at + i) & 0xFF) != bytes[i]) {
        return false;
      }
    }
    return true;
  }

  /** A body read into memory up to {@code maxBytes}; one byte more fails the exchange with {@link Refused}. */
  static BodyCodec<Buffer> capped(int maxBytes) {
    return () -> new Capped(maxBytes);
  }

  private static final class Capped implements BodyStream<Buffer> {
    private final int max;
    private final Buffer body = Buffer.buffer();
    private final Promise<Buffer> result = Promise.promise();

    Capped(int max) {
      this.max = max;
    }

    @Override
    public Future<Buffer> result() {
      return result.future();
    }

    @Override
    public void handle(Throwable err) {
      result.tryFail(err);
    }

    @Override
    public Future<Void> write(Buffer data) {
      if (body.length() + data.length() > max) {
        // failing the result ends the exchange now: the rest is never read
        Refused tooLarge = new Refused("the picture is larger than " + max + " bytes", TOO_LARGE);
        result.tryFail(tooLarge);
        return Future.failedFuture(tooLarge);
      }
      body.appendBuffer(data);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      result.tryComplete(body);
      return Future.succeededFuture();
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
      return this;
    }
  }
}
