package ai.deepchat.datasets;

import ai.deepchat.chat.api.HttpProblem;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowStream;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * A version's JSONL file sent as it is read: one line per row, paused while the client is slow, so a large
 * file holds a few hundred rows in memory at most. Shared by the API and the console.
 */
public final class JsonlDownload implements DatasetStore.LineSink {

  private final HttpServerResponse response;
  private final String filename;

  private JsonlDownload(HttpServerResponse response, String filename) {
    this.response = response;
    this.filename = filename;
  }

  /**
   * Streams version {@code number}'s {@code kind} file of dataset {@code id}; a failure before the first byte
   * goes to {@code refused} (an unknown version: 404), one after it breaks the connection, so a half-sent
   * file never looks complete.
   */
  public static void send(DatasetStore store, UUID tenant, UUID id, int number, String kind, DatasetStore.Actor actor,
                          HttpServerResponse response, Consumer<Throwable> refused) {
    if (!ExampleContent.SFT.equals(kind) && !ExampleContent.PREFERENCE.equals(kind)) {
      refused.accept(DatasetStore.notFound("file"));
      return;
    }
    JsonlDownload sink = new JsonlDownload(response, "dataset-" + id + "-v" + number + "-" + kind + ".jsonl");
    store.export(tenant, id, number, kind, actor, sink).onSuccess(v -> response.end()).onFailure(err -> {
      if (response.headWritten()) {
        response.reset();
      } else {
        refused.accept(err);
      }
    });
  }

  @Override
  public void start() {
    response.setChunked(true).putHeader("Content-Type", "application/jsonl; charset=utf-8")
        .putHeader("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  }

  @Override
  public Future<Void> drain(RowStream<Row> rows) {
    Promise<Void> done = Promise.promise();
    rows.exceptionHandler(done::tryFail).endHandler(v -> done.tryComplete()).handler(row -> {
      response.write(Buffer.buffer(row.getJsonObject("line").encode() + "\n", StandardCharsets.UTF_8.name()));
      if (response.writeQueueFull()) {
        rows.pause();
        response.drainHandler(v -> rows.resume());
      }
    });
    response.closeHandler(v -> done.tryFail(new HttpProblem(499, "invalid_request_error", "client_closed",
        "The client went away.")));
    return done.future();
  }
}
