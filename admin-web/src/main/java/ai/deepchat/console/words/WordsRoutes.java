package ai.deepchat.console.words;

import ai.deepchat.policy.PolicyServices;
import io.vertx.core.Vertx;
import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Sensitive words the moderation step blocks or masks; added one per line, duplicates ignored. */
public final class WordsRoutes {

  private final Vertx vertx;
  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public WordsRoutes(Vertx vertx, Database database, Views views, ConsoleAudit audit) {
    this.vertx = vertx;
    this.audit = audit;
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/words", ConsoleRole.VIEWER, this::list);
    routes.post("/words", ConsoleRole.EDITOR, this::add);
    routes.post("/words/:id/delete", ConsoleRole.EDITOR, this::delete);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT id, word, created_at FROM sensitive_words "
            + "ORDER BY word").execute())
        .compose(rows -> views.render(ctx, "words", Map.of("section", "words", "words", Rows.maps(rows))));
  }

  private Future<?> add(RoutingContext ctx, ConsoleSession s) {
    List<String> words = Arrays.stream(Forms.text(ctx, "words", 100_000, true).split("\\R"))
        .map(String::strip).filter(w -> !w.isEmpty()).distinct().toList();
    if (words.isEmpty() || words.size() > 5000 || words.stream().anyMatch(w -> w.length() > 200)) {
      throw ConsoleException.badRequest("error.invalid", "words");
    }
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO sensitive_words (tenant_id, word) "
            + "SELECT $1, unnest($2::text[]) ON CONFLICT (tenant_id, word) DO NOTHING")
        .execute(Tuple.tuple().addUUID(s.tenantId()).addArrayOfString(words.toArray(new String[0])))
        .compose(rows -> audit.record(c, s, Forms.ip(ctx), "words.add", "sensitive_words",
            new JsonObject().put("added", rows.rowCount()).put("words", new JsonArray(words)))))
        // every node drops its cached moderation automaton of this tenant
        .onSuccess(x -> PolicyServices.publishChanged(vertx, s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/words", "saved"));
  }

  private Future<?> delete(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("DELETE FROM sensitive_words WHERE id = $1 RETURNING word")
        .execute(Tuple.of(id))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          return audit.record(c, s, Forms.ip(ctx), "words.delete", "word:" + id,
              new JsonObject().put("word", rows.iterator().next().getString("word")));
        }))
        .onSuccess(x -> PolicyServices.publishChanged(vertx, s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/words", "deleted"));
  }
}
