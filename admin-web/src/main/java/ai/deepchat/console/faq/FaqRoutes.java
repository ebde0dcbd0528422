package ai.deepchat.console.faq;

import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.markdown.MarkdownRenderer;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.faq.FaqApiModule;
import ai.deepchat.faq.FaqFormat;
import ai.deepchat.faq.FaqSheet;
import ai.deepchat.faq.FaqStore;
import ai.deepchat.faq.FaqTransfer;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.FaqCandidate;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.db.Database;
import ai.deepchat.policy.PolicyServices;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * FAQ answers: question, Markdown answer (previewed sanitized), enabled flag. Editing a question
 * clears its stored embedding so the pipeline computes it again, and every change tells every node's
 * router to drop the tenant's cached entries. The FAQ match test asks the router itself how a
 * question scores against each entry and which one would answer.
 */
public final class FaqRoutes {

  /** The router may load the tenant's entries and embed missing questions first (ONNX, a few seconds cold). */
  static final long MATCH_TIMEOUT_MS = 15_000;

  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;
  private final MarkdownRenderer markdown;
  private final FaqTransfer transfer;

  public FaqRoutes(Database database, Views views, ConsoleAudit audit, MarkdownRenderer markdown,
                   FaqTransfer transfer) {
    this.transfer = transfer;
    this.audit = audit;
    this.markdown = markdown;
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/faq", ConsoleRole.VIEWER, this::list);
    routes.get("/faq/match", ConsoleRole.VIEWER, this::match);
    routes.post("/faq", ConsoleRole.EDITOR, this::create);
    // before "/faq/:id", which would take "import" for an id
    routes.get("/faq/export.csv", ConsoleRole.VIEWER, (ctx, s) -> export(ctx, s, FaqFormat.CSV));
    routes.get("/faq/export.xlsx", ConsoleRole.VIEWER, (ctx, s) -> export(ctx, s, FaqFormat.XLSX));
    routes.upload("/faq/import", ConsoleRole.EDITOR, FaqApiModule.MAX_IMPORT_BYTES + 64 * 1024, this::importFile);
    routes.post("/faq/:id", ConsoleRole.EDITOR, this::update);
    routes.post("/faq/:id/delete", ConsoleRole.EDITOR, this::delete);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    return page(ctx, s, 200, List.of());
  }

  /** The FAQ page; {@code problems}: the rows of a refused import, listed above the answers. */
  private Future<?> page(RoutingContext ctx, ConsoleSession s, int status, List<FaqSheet.Problem> problems) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT id, question, answer, enabled, updated_at "
            + "FROM faq_entries ORDER BY updated_at DESC").execute())
        .compose(rows -> {
          List<Map<String, Object>> entries = Rows.maps(rows);
          return markdown.fill(entries, "answer", "html")
              .compose(x -> views.render(ctx, status, "faq", Map.of("section", "faq", "entries", entries,
                  "importProblems", problems)));
        });
  }

  private Future<?> export(RoutingContext ctx, ConsoleSession s, FaqFormat format) {
    return transfer.export(s.tenantId(), format)
        .compose(file -> ctx.response().putHeader("Content-Type", format.contentType())
            .putHeader("Content-Disposition", "attachment; filename=\"faq." + format.extension() + "\"")
            .end(file));
  }

  /** A CSV or XLSX file: applied whole, or the page again listing every refused row. */
  private Future<?> importFile(RoutingContext ctx, ConsoleSession s) {
    List<FileUpload> files = ctx.fileUploads();
    FaqFormat format = files.size() == 1 ? FaqFormat.detect(files.get(0).fileName(), files.get(0).contentType()) : null;
    if (format == null) {
      throw ConsoleException.badRequest("error.invalid", "file");
    }
    String mode = Forms.text(ctx, "mode", 10, false);
    if (!mode.isEmpty() && !mode.equals("merge") && !mode.equals("replace")) {
      throw ConsoleException.badRequest("error.invalid", "mode");
    }
    return transfer.importFile(s.tenantId(), Path.of(files.get(0).uploadedFileName()), format,
            mode.equals("replace") ? FaqStore.Mode.REPLACE : FaqStore.Mode.MERGE, s.actor(), Forms.ip(ctx))
        .compose(outcome -> {
          if (outcome.applied()) {
            return ConsoleRouter.done(ctx, "/faq", "imported");
          }
          return page(ctx, s, 400, outcome.problems()).mapEmpty();
        });
  }

  private Future<?> match(RoutingContext ctx, ConsoleSession s) {
    String q = ctx.request().getParam("q", "").strip();
    if (q.length() > 1000) {
      throw ConsoleException.badRequest("error.tooLong", "q", 1000);
    }
    Map<String, Object> model = new HashMap<>();
    model.put("section", "faq");
    model.put("q", q);
    if (q.isEmpty()) {
      return views.render(ctx, "faq-match", model);
    }
    return ctx.vertx().eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
            new RouteRequest(s.tenantId().toString(), q), new DeliveryOptions().setSendTimeout(MATCH_TIMEOUT_MS))
        .map(msg -> {
          RouteDecision d = msg.body();
          List<Map<String, Object>> candidates = new ArrayList<>();
          List<FaqCandidate> scored = d.scores() == null ? List.of() : d.scores().faqCandidates();
          for (FaqCandidate c : scored) {
            candidates.add(Map.of("id", c.faqId(), "question", c.question(),
                "score", String.format("%.3f", c.score()), "answers", c.faqId().equals(d.faqId())));
          }
          model.put("candidates", candidates);
          model.put("intent", d.intent());
          model.put("answered", d.faqId() != null);
          if (d.scores() != null) {
            model.put("threshold", String.format("%.2f", d.scores().thresholds().faq()));
          }
          model.put("tested", true);
          return model;
        })
        .otherwise(err -> {
          model.put("unavailable", true);
          return model;
        })
        .compose(m -> views.render(ctx, "faq-match", m));
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    String question = Forms.text(ctx, "question", 1000, true);
    String answer = Forms.text(ctx, "answer", 20_000, true);
    boolean enabled = Forms.checkbox(ctx, "enabled");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO faq_entries "
            + "(tenant_id, question, answer, enabled) VALUES ($1, $2, $3, $4) RETURNING id")
        .execute(Tuple.of(s.tenantId(), question, answer, enabled))
        .compose(rows -> audit.record(c, s, Forms.ip(ctx), "faq.create",
            "faq:" + rows.iterator().next().getUUID("id"), new JsonObject().put("question", question))))
        .onSuccess(x -> PolicyServices.publishChanged(ctx.vertx(), s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/faq", "saved"));
  }

  private Future<?> update(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    String question = Forms.text(ctx, "question", 1000, true);
    String answer = Forms.text(ctx, "answer", 20_000, true);
    boolean enabled = Forms.checkbox(ctx, "enabled");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("UPDATE faq_entries SET question = $2, answer = $3, "
            + "enabled = $4, embedding = CASE WHEN question = $2 THEN embedding END, updated_at = now() "
            + "WHERE id = $1").execute(Tuple.of(id, question, answer, enabled))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            throw ConsoleException.notFound();
          }
          return audit.record(c, s, Forms.ip(ctx), "faq.update", "faq:" + id,
              new JsonObject().put("question", question).put("enabled", enabled));
        }))
        .onSuccess(x -> PolicyServices.publishChanged(ctx.vertx(), s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/faq", "saved"));
  }

  private Future<?> delete(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("DELETE FROM faq_entries WHERE id = $1 RETURNING question")
        .execute(Tuple.of(id))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          return audit.record(c, s, Forms.ip(ctx), "faq.delete", "faq:" + id,
              new JsonObject().put("question", rows.iterator().next().getString("question")));
        }))
        .onSuccess(x -> PolicyServices.publishChanged(ctx.vertx(), s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/faq", "deleted"));
  }
}
