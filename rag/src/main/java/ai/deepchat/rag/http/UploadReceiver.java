package ai.deepchat.rag.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.file.Path;
import java.util.UUID;

/**
 * Receives an upload onto disk as it arrives, never whole in memory: a multipart form through
 * vertx-web's BodyHandler (which writes file fields to disk), a raw body streamed into a temporary file
 * here, with back-pressure and the size limit enforced while reading (413 as soon as it is passed, and
 * the connection closed, so the rest of an oversized body is not read). The file is deleted when the
 * response ends. The next handler finds it with {@link #file}.
 */
final class UploadReceiver implements Handler<RoutingContext> {

  private static final String FILE = "rag.upload.file";

  private final Vertx vertx;
  private final Path directory;
  private final long limit;
  private final BodyHandler multipart;

  /** {@code limit}: bytes of the file; a multipart form may add {@code slack} bytes of framing. */
  UploadReceiver(Vertx vertx, Path directory, long limit, long slack) {
    this.vertx = vertx;
    this.directory = directory;
    this.limit = limit;
    this.multipart = BodyHandler.create().setBodyLimit(limit + slack).setUploadsDirectory(directory.toString())
        .setDeleteUploadedFilesOnEnd(true);
  }

  /** The raw body's file, or null when the upload was a multipart form (see {@code ctx.fileUploads()}). */
  static Path file(RoutingContext ctx) {
    return ctx.get(FILE);
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && type.toLowerCase().startsWith("multipart/form-data")) {
      multipart.handle(ctx);
      return;
    }
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > limit) {
      tooLarge(ctx);
      return;
    }
    request.pause();
    Path file = directory.resolve(UUID.randomUUID() + ".upload");
    ctx.addEndHandler(ended -> vertx.fileSystem().delete(file.toString()));
    vertx.fileSystem().mkdirs(directory.toString())
        .compose(made -> vertx.fileSystem().open(file.toString(), new OpenOptions().setCreateNew(true).setWrite(true)))
        .onFailure(ctx::fail)
        .onSuccess(out -> receive(ctx, request, out, file));
  }

  private void receive(RoutingContext ctx, HttpServerRequest request, AsyncFile out, Path file) {
    DiskSink.write(request, out, limit).onComplete(written -> {
      if (written.succeeded()) {
        ctx.put(FILE, file);
        ctx.next();
      } else if (written.cause() instanceof DiskSink.TooLarge) {
        tooLarge(ctx);
      } else {
        ctx.fail(written.cause());
      }
    });
  }

  private void tooLarge(RoutingContext ctx) {
    // the unread rest of the body would otherwise be taken for the next request on this connection
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    ctx.addEndHandler(ended -> ctx.request().connection().close());
    ctx.fail(new ApiProblem(413, "file_too_large", "file", "The file is larger than the upload limit of "
        + limit + " bytes."));
  }
}
