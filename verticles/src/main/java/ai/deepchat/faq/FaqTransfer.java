package ai.deepchat.faq;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.AuditTrail;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * FAQ import and export as files, for the API and the console alike: spreadsheets are read and written
 * on a worker (CPU work, never on an event loop), rows applied by {@link FaqStore} in one transaction.
 */
public final class FaqTransfer {

  /** What an import did: applied ({@code problems} empty), or refused whole with every problem. */
  public record Outcome(int rows, FaqStore.Imported imported, List<FaqSheet.Problem> problems) {

    public boolean applied() {
      return problems.isEmpty();
    }
  }

  private final FaqStore store;
  private final WorkerExecutor worker;

  public FaqTransfer(Vertx vertx, Database database, AuditTrail audit) {
    this.store = new FaqStore(database, audit);
    // one file at a time per node: a burst of large imports queues instead of taking every core
    this.worker = vertx.createSharedWorkerExecutor("faq-files", 1);
  }

  public Future<Buffer> export(UUID tenantId, FaqFormat format) {
    return store.export(tenantId)
        .compose(rows -> worker.executeBlocking(() -> Buffer.buffer(FaqSheet.write(rows, format)), false));
  }

  /** Reads {@code file}, and applies it only when every row is valid; {@code actor} is audited. */
  public Future<Outcome> importFile(UUID tenantId, Buffer file, FaqFormat format, FaqStore.Mode mode, String actor,
                                    String ip) {
    return importFile(tenantId, file::getBytes, format, mode, actor, ip);
  }

  /** The same for an uploaded file on disk (read on the worker; the caller deletes it). */
  public Future<Outcome> importFile(UUID tenantId, Path file, FaqFormat format, FaqStore.Mode mode, String actor,
                                    String ip) {
    return importFile(tenantId, () -> Files.readAllBytes(file), format, mode, actor, ip);
  }

  private Future<Outcome> importFile(UUID tenantId, Callable<byte[]> file, FaqFormat format, FaqStore.Mode mode,
                                     String actor, String ip) {
    return worker.executeBlocking(() -> FaqSheet.read(file.call(), format), false)
        .compose(parsed -> parsed.problems().isEmpty()
            ? store.importRows(tenantId, parsed.rows(), mode, actor, ip)
                .map(done -> new Outcome(parsed.rows().size(), done, List.of()))
            : Future.succeededFuture(new Outcome(0, null, parsed.problems())));
  }
}
