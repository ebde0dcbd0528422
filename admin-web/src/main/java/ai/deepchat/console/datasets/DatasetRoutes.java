package ai.deepchat.console.datasets;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Views;
import ai.deepchat.datasets.DatasetFilters;
import ai.deepchat.datasets.DatasetStore;
import ai.deepchat.datasets.JsonlDownload;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The Datasets page (editors and up): datasets with their filters, building examples, the review queue
 * (accept, reject, edit; which answer of a pair is better), frozen versions and their JSONL downloads. All of
 * it goes through {@link DatasetStore}, the same as the API, so masking, audit and tenancy are the same.
 */
public final class DatasetRoutes {

  private static final Set<String> STATUSES = Set.of("pending", "accepted", "rejected");

  private final DatasetStore store;
  private final Views views;

  public DatasetRoutes(DatasetStore store, Views views) {
    this.store = store;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/datasets", ConsoleRole.EDITOR, this::list);
    routes.post("/datasets", ConsoleRole.EDITOR, this::create);
    routes.get("/datasets/:id", ConsoleRole.EDITOR, this::show);
    routes.post("/datasets/:id/build", ConsoleRole.EDITOR, (ctx, s) -> refused(store.build(s.tenantId(),
        Forms.id(ctx, "id"), actor(ctx, s))).compose(d -> done(ctx, d.getString("id"), "datasetBuilt")));
    routes.post("/datasets/:id/versions", ConsoleRole.EDITOR, (ctx, s) -> refused(store.freeze(s.tenantId(),
        Forms.id(ctx, "id"), actor(ctx, s))).compose(v -> done(ctx, ctx.pathParam("id"), "datasetFrozen")));
    routes.post("/datasets/:id/delete", ConsoleRole.EDITOR, (ctx, s) -> refused(store.delete(s.tenantId(),
        Forms.id(ctx, "id"), actor(ctx, s))).compose(v -> ConsoleRouter.done(ctx, "/datasets", "deleted")));
    routes.post("/datasets/:id/examples/:example", ConsoleRole.EDITOR, this::review);
    routes.get("/datasets/:id/versions/:number/:file", ConsoleRole.EDITOR, this::download);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    return store.list(s.tenantId()).compose(list -> views.render(ctx, "datasets", Map.of("section", "datasets",
        "datasets", plain(list.getJsonArray("data")), "sources", DatasetFilters.SOURCES)));
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    JsonObject filters = new JsonObject();
    putIfSet(filters, "from", Forms.text(ctx, "from", 40, false));
    putIfSet(filters, "to", Forms.text(ctx, "to", 40, false));
    putIfSet(filters, "intent", Forms.text(ctx, "intent", 100, false));
    filters.put("positive_only", Forms.checkbox(ctx, "positive_only"));
    String minRating = Forms.text(ctx, "min_rating", 10, false);
    if (minRating != null && !minRating.isEmpty()) {
      // a digit as the API's number; anything else as typed, for the API's own refusal (400) to name it
      filters.put("min_rating", minRating.matches("[0-9]") ? Integer.valueOf(minRating) : minRating);
    }
    // every source ticked (the form's default) is "all", which later sources join too; a post without the
    // form's sources boxes (sources_form) means all as well
    List<String> sources = ctx.request().formAttributes().getAll("sources");
    if (!Forms.text(ctx, "sources_form", 1, false).isEmpty() && !sources.containsAll(DatasetFilters.SOURCES)) {
      filters.put("sources", new JsonArray(List.copyOf(sources)));
    }
    String name = Forms.text(ctx, "name", 100, true);
    return refused(Future.succeededFuture().compose(x -> store.create(s.tenantId(), name,
            DatasetFilters.parse(filters), actor(ctx, s))))
        .compose(d -> done(ctx, d.getString("id"), "created"));
  }

  private Future<?> show(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    String status = ctx.queryParams().get("status");
    String shown = status != null && STATUSES.contains(status) ? status : "pending";
    return refused(store.get(s.tenantId(), id).compose(d -> store.versions(s.tenantId(), id)
        .compose(versions -> store.examples(s.tenantId(), id, shown, null, null, null, 50).map(examples -> {
          Map<String, Object> model = new HashMap<>();
          model.put("section", "datasets");
          model.put("dataset", plain(d));
          model.put("versions", plain(versions.getJsonArray("data")));
          model.put("examples", examples.getJsonArray("data").stream().map(e -> {
            JsonObject ex = (JsonObject) e;
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) plain(ex);
            m.put("text", ex.getJsonObject("content").encodePrettily());
            return m;
          }).toList());
          model.put("status", shown);
          model.put("statuses", List.of("pending", "accepted", "rejected"));
          return model;
        }))))
        .compose(model -> views.render(ctx, "dataset", model));
  }

  private Future<?> review(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    UUID example = Forms.id(ctx, "example");
    String status = Forms.text(ctx, "status", 20, false);
    String prefer = Forms.text(ctx, "prefer", 30, false);
    String text = Forms.text(ctx, "content", 1_000_000, false);
    String original = Forms.text(ctx, "shown", 1_000_000, false);
    Object content = null;
    if (!text.isEmpty() && !text.equals(original)) {
      try {
        content = new JsonObject(text);
      } catch (DecodeException e) {
        throw ConsoleException.badRequest("datasets.error.json");
      }
    }
    DatasetStore.Review review = new DatasetStore.Review(status.isEmpty() ? null : status, content,
        prefer.isEmpty() ? null : prefer);
    if (review.status() != null && !STATUSES.contains(review.status())) {
      throw ConsoleException.badRequest("error.invalid", "status");
    }
    return refused(store.review(s.tenantId(), id, example, review, actor(ctx, s)))
        .compose(x -> done(ctx, id.toString(), "saved"));
  }

  private Future<?> download(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    String file = ctx.pathParam("file");
    int number;
    try {
      number = Integer.parseInt(ctx.pathParam("number"));
    } catch (NumberFormatException e) {
      throw ConsoleException.notFound();
    }
    if (!file.endsWith(".jsonl")) {
      throw ConsoleException.notFound();
    }
    JsonlDownload.send(store, s.tenantId(), id, number, file.substring(0, file.length() - ".jsonl".length()),
        actor(ctx, s), ctx.response(), err -> ctx.fail(console(err)));
    return Future.succeededFuture();
  }

  /** The store's refusals (HttpProblem) as console errors, its message shown; anything else as it is. */
  private static <T> Future<T> refused(Future<T> work) {
    return work.recover(err -> Future.failedFuture(console(err)));
  }

  private static Throwable console(Throwable err) {
    if (err instanceof HttpProblem p && p.status() < 500) {
      return p.status() == 404 ? ConsoleException.notFound()
          : new ConsoleException(p.status(), "datasets.error.refused", p.getMessage());
    }
    return err;
  }

  private static Future<Void> done(RoutingContext ctx, String id, String notice) {
    return ConsoleRouter.done(ctx, "/datasets/" + id, notice);
  }

  /** JSON as maps and lists all the way down, which templates can navigate. */
  private static Object plain(Object v) {
    if (v instanceof JsonObject o) {
      Map<String, Object> m = new HashMap<>();
      o.forEach(e -> m.put(e.getKey(), plain(e.getValue())));
      return m;
    }
    if (v instanceof JsonArray a) {
      return a.stream().map(DatasetRoutes::plain).toList();
    }
    return v;
  }

  private static void putIfSet(JsonObject o, String key, String value) {
    if (!value.isEmpty()) {
      o.put(key, value);
    }
  }

  private static DatasetStore.Actor actor(RoutingContext ctx, ConsoleSession s) {
    return new DatasetStore.Actor(s.actor(), Forms.ip(ctx));
  }
}
