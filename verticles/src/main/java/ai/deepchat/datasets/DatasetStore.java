package ai.deepchat.datasets;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowStream;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A tenant's datasets, their examples' review and their frozen versions. Every call runs under the
 * caller's tenant (row-level security), so another tenant's ids are not found; every change is audited
 * in the transaction that makes it.
 */
public final class DatasetStore {

  /** Who asks: the audit log's actor ("apikey:<id>", "user:<id>") and client address. */
  public record Actor(String name, String ip) {
  }

  /** A reviewer's change: any of a status, edited content, which answer of a pair is preferred. */
  public record Review(String status, Object content, String prefer) {
  }

  private static final String DATASET_COLUMNS = "d.id, d.name, d.from_time, d.to_time, d.intent, d.positive_only, "
      + "d.min_rating, d.sources, d.created_at, d.updated_at, (SELECT jsonb_object_agg(kind || ':' || status, n) FROM (SELECT kind, "
      + "status, count(*) AS n FROM dataset_examples e WHERE e.dataset_id = d.id GROUP BY kind, status) s) AS counts, "
      + "(SELECT max(number) FROM dataset_versions v WHERE v.dataset_id = d.id) AS latest_version";
  private static final String EXAMPLE_COLUMNS = "id, kind, source, status, chosen_by, conversation_id, original, edited, "
      + "reviewed_by, reviewed_at, created_at";

  private final Database database;
  private final AuditTrail audit;

  public DatasetStore(Database database, AuditTrail audit) {
    this.database = database;
    this.audit = audit;
  }

  public Future<JsonObject> create(UUID tenant, String name, DatasetFilters f, Actor actor) {
    return database.inTenant(tenant, c -> c.preparedQuery("INSERT INTO datasets (tenant_id, name, from_time, to_time, "
            + "intent, positive_only, min_rating, sources) VALUES (app_tenant(), $1, $2, $3, $4, $5, $6::integer, $7::text[]) "
            + "RETURNING id")
        .execute(Tuple.of(name, f.from(), f.to(), f.intent(), f.positiveOnly(), f.minRating(), f.sourcesArray()))
        .recover(err -> Future.failedFuture(uniqueViolation(err)
            ? new HttpProblem(409, "conflict_error", "name_taken", "A dataset named '" + name + "' exists already.")
            : err))
        .compose(rows -> {
          UUID id = rows.iterator().next().getUUID(0);
          return audited(c, tenant, actor, "dataset.created", id.toString(), Map.of("name", name,
              "filters", f.toJson().encode())).compose(v -> dataset(c, id));
        }));
  }

  public Future<JsonObject> list(UUID tenant) {
    return database.inTenant(tenant, c -> c.query("SELECT " + DATASET_COLUMNS + " FROM datasets d ORDER BY d.created_at")
        .execute().map(rows -> {
          JsonArray data = new JsonArray();
          rows.forEach(r -> data.add(datasetJson(r)));
          return new JsonObject().put("object", "list").put("data", data);
        }));
  }

  public Future<JsonObject> get(UUID tenant, UUID id) {
    return database.inTenant(tenant, c -> dataset(c, id));
  }

  public Future<Void> delete(UUID tenant, UUID id, Actor actor) {
    return database.inTenant(tenant, c -> c.preparedQuery("DELETE FROM datasets WHERE id = $1 RETURNING name")
        .execute(Tuple.of(id)).compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(notFound("dataset"))
            : audited(c, tenant, actor, "dataset.deleted", id.toString(),
                Map.of("name", rows.iterator().next().getString(0)))));
  }

  /** Adds the examples the filters select and the dataset lacks; answers the dataset with the numbers added. */
  public Future<JsonObject> build(UUID tenant, UUID id, Actor actor) {
    return database.inTenant(tenant, c -> locked(c, id)
        .compose(row -> DatasetBuilder.build(c, id, DatasetFilters.of(row)))
        .compose(added -> audited(c, tenant, actor, "dataset.built", id.toString(),
                Map.of("sft_added", added.sft(), "preference_added", added.preference(),
                    "faq_superseded", added.faqSuperseded()))
            .compose(v -> dataset(c, id))
            .map(d -> d.put("added", new JsonObject().put("sft", added.sft()).put("preference", added.preference()))
                .put("faq_superseded", added.faqSuperseded()))));
  }

  /** Examples of a dataset, oldest first, optionally of one status, kind and source, after a cursor (an example id). */
  public Future<JsonObject> examples(UUID tenant, UUID id, String status, String kind, String source, UUID after,
                                     int limit) {
    return database.inTenant(tenant, c -> dataset(c, id).compose(d -> c.preparedQuery("SELECT " + EXAMPLE_COLUMNS
            + " FROM dataset_examples WHERE dataset_id = $1 AND ($2::text IS NULL OR status = $2) "
            + "AND ($3::text IS NULL OR kind = $3) AND ($4::uuid IS NULL OR seq > "
            + "(SELECT seq FROM dataset_examples WHERE id = $4)) AND ($6::text IS NULL OR source = $6) ORDER BY seq LIMIT $5")
        .execute(Tuple.of(id, status, kind, after, limit + 1, source)).map(rows -> {
          JsonArray data = new JsonArray();
          for (Row r : rows) {
            if (data.size() < limit) {
              data.add(exampleJson(r));
            }
          }
          return new JsonObject().put("object", "list").put("data", data).put("has_more", rows.size() > limit);
        })));
  }

  public Future<JsonObject> review(UUID tenant, UUID datasetId, UUID exampleId, Review review, Actor actor) {
    return database.inTenant(tenant, c -> c.preparedQuery("SELECT " + EXAMPLE_COLUMNS + " FROM dataset_examples "
            + "WHERE id = $1 AND dataset_id = $2 FOR UPDATE").execute(Tuple.of(exampleId, datasetId))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return Future.failedFuture(notFound("example"));
          }
          Row r = rows.iterator().next();
          String kind = r.getString("kind");
          JsonObject edited = r.getJsonObject("edited");
          String chosenBy = r.getString("chosen_by");
          if (review.prefer() != null && !ExampleContent.PREFERENCE.equals(kind)) {
            throw DatasetFilters.invalid("prefer applies to preference pairs only");
          }
          if (review.content() != null) {
            edited = ExampleContent.edited(kind, review.content());
            chosenBy = ExampleContent.PREFERENCE.equals(kind) ? "rater" : chosenBy;
          }
          if (review.prefer() != null) {
            JsonObject current = edited != null ? edited : r.getJsonObject("original");
            edited = switch (review.prefer()) {
              case "preferred_output" -> edited;
              case "non_preferred_output" -> ExampleContent.swapped(current);
              default -> throw DatasetFilters.invalid("prefer must be preferred_output (keep the order) or "
                  + "non_preferred_output (the other answer is better)");
            };
            chosenBy = "rater";
          }
          String status = review.status() == null ? r.getString("status") : review.status();
          if ("accepted".equals(status) && ExampleContent.PREFERENCE.equals(kind) && chosenBy == null) {
            throw new HttpProblem(409, "conflict_error", "not_chosen", "No feedback chose an answer of this pair: "
                + "say which is better (prefer) before accepting it.");
          }
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("dataset", datasetId.toString());
          details.put("status", status);
          details.put("edited", review.content() != null || review.prefer() != null);
          return c.preparedQuery("UPDATE dataset_examples SET status = $2, edited = $3, chosen_by = $4, "
                  + "reviewed_by = $5, reviewed_at = now() WHERE id = $1 RETURNING " + EXAMPLE_COLUMNS)
              .execute(Tuple.of(exampleId, status, edited, chosenBy, actor.name()))
              .compose(updated -> audited(c, tenant, actor, "dataset.example.reviewed", exampleId.toString(), details)
                  .map(v -> exampleJson(updated.iterator().next())));
        }));
  }

  /** Freezes the accepted examples as the dataset's next version. */
  public Future<JsonObject> freeze(UUID tenant, UUID id, Actor actor) {
    return database.inTenant(tenant, c -> locked(c, id)
        .compose(row -> c.preparedQuery("SELECT coalesce(max(number), 0) + 1 FROM dataset_versions WHERE dataset_id = $1")
            .execute(Tuple.of(id)))
        .compose(rows -> {
          int number = rows.iterator().next().getInteger(0);
          return c.preparedQuery("INSERT INTO dataset_versions (tenant_id, dataset_id, number, sft_examples, "
                  + "preference_pairs, created_by) SELECT app_tenant(), $1, $2, count(*) FILTER (WHERE kind = 'sft'), "
                  + "count(*) FILTER (WHERE kind = 'preference'), $3 FROM dataset_examples "
                  + "WHERE dataset_id = $1 AND status = 'accepted'")
              .execute(Tuple.of(id, number, actor.name()))
              .compose(v -> c.preparedQuery("INSERT INTO dataset_version_examples (tenant_id, dataset_id, number, "
                      + "example_id, kind, position, line) SELECT app_tenant(), $1, $2, id, kind, "
                      + "row_number() OVER (PARTITION BY kind ORDER BY seq), coalesce(edited, original) "
                      + "FROM dataset_examples WHERE dataset_id = $1 AND status = 'accepted'")
                  .execute(Tuple.of(id, number)))
              .compose(v -> version(c, id, number))
              .compose(version -> audited(c, tenant, actor, "dataset.version.created", id + "/" + number,
                  Map.of("sft_examples", version.getInteger("sft_examples"),
                      "preference_pairs", version.getInteger("preference_pairs"))).map(v -> version));
        }));
  }

  public Future<JsonObject> versions(UUID tenant, UUID id) {
    return database.inTenant(tenant, c -> dataset(c, id).compose(d -> c.preparedQuery(versionQuery(false))
        .execute(Tuple.of(id, 0)).map(rows -> {
          JsonArray data = new JsonArray();
          rows.forEach(r -> data.add(versionJson(r)));
          return new JsonObject().put("object", "list").put("data", data);
        })));
  }

  /**
   * Streams a version's lines of one kind, in order, to {@code sink}, audited in the same transaction. The
   * version is checked (404) before {@code start} is called, so nothing is sent for an unknown one.
   */
  public Future<Void> export(UUID tenant, UUID id, int number, String kind, Actor actor, LineSink sink) {
    return database.inTenant(tenant, c -> version(c, id, number)
        .compose(version -> audited(c, tenant, actor, "dataset.version.exported", id + "/" + number,
            Map.of("file", kind)))
        .compose(v -> c.prepare("SELECT line FROM dataset_version_examples WHERE dataset_id = $1 AND number = $2 "
            + "AND kind = $3 ORDER BY position"))
        .compose(statement -> {
          sink.start();
          return sink.drain(statement.createStream(256, Tuple.of(id, number, kind)));
        }));
  }

  /** Where an export's rows go: started once the version is known, then fed the stream with back-pressure. */
  public interface LineSink {
    void start();

    Future<Void> drain(RowStream<Row> rows);
  }

  private Future<Row> locked(SqlConnection c, UUID id) {
    return c.preparedQuery("SELECT * FROM datasets WHERE id = $1 FOR UPDATE").execute(Tuple.of(id))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(notFound("dataset"))
            : Future.succeededFuture(rows.iterator().next()));
  }

  private static Future<JsonObject> dataset(SqlConnection c, UUID id) {
    return c.preparedQuery("SELECT " + DATASET_COLUMNS + " FROM datasets d WHERE d.id = $1").execute(Tuple.of(id))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(notFound("dataset"))
            : Future.succeededFuture(datasetJson(rows.iterator().next())));
  }

  private static Future<JsonObject> version(SqlConnection c, UUID id, int number) {
    return c.preparedQuery(versionQuery(true)).execute(Tuple.of(id, number))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(notFound("version"))
            : Future.succeededFuture(versionJson(rows.iterator().next())));
  }

  private static String versionQuery(boolean one) {
    return "SELECT number, sft_examples, preference_pairs, created_by, created_at, (SELECT count(*) FROM "
        + "dataset_version_examples x WHERE x.dataset_id = v.dataset_id AND x.number = v.number) AS lines "
        + "FROM dataset_versions v WHERE dataset_id = $1 AND " + (one ? "number = $2" : "$2 = 0 ORDER BY number");
  }

  private Future<Void> audited(SqlConnection c, UUID tenant, Actor actor, String action, String target,
                               Map<String, Object> details) {
    return audit.append(c, new AuditEntry(tenant.toString(), actor.name(), action, target, actor.ip(), details))
        .mapEmpty();
  }

  private static JsonObject datasetJson(Row r) {
    JsonObject counts = r.getJsonObject("counts") == null ? new JsonObject() : r.getJsonObject("counts");
    JsonObject examples = new JsonObject();
    for (String kind : new String[] {ExampleContent.SFT, ExampleContent.PREFERENCE}) {
      JsonObject byStatus = new JsonObject();
      for (String status : new String[] {"pending", "accepted", "rejected"}) {
        byStatus.put(status, counts.getLong(kind + ":" + status, 0L));
      }
      examples.put(kind, byStatus);
    }
    return new JsonObject().put("object", "dataset").put("id", r.getUUID("id").toString())
        .put("name", r.getString("name")).put("filters", DatasetFilters.of(r).toJson()).put("examples", examples)
        .put("latest_version", r.getInteger("latest_version"))
        .put("created_at", r.getOffsetDateTime("created_at").toString());
  }

  private static JsonObject exampleJson(Row r) {
    JsonObject original = r.getJsonObject("original");
    JsonObject edited = r.getJsonObject("edited");
    return new JsonObject().put("object", "dataset.example").put("id", r.getUUID("id").toString())
        .put("kind", r.getString("kind")).put("source", r.getString("source")).put("status", r.getString("status"))
        .put("chosen_by", r.getString("chosen_by"))
        .put("conversation_id", r.getUUID("conversation_id") == null ? null : r.getUUID("conversation_id").toString())
        .put("content", edited != null ? edited : original).put("original", original).put("edited", edited)
        .put("reviewed_by", r.getString("reviewed_by"))
        .put("reviewed_at", r.getOffsetDateTime("reviewed_at") == null ? null : r.getOffsetDateTime("reviewed_at").toString())
        .put("created_at", r.getOffsetDateTime("created_at").toString());
  }

  private static JsonObject versionJson(Row r) {
    return new JsonObject().put("object", "dataset.version").put("number", r.getInteger("number"))
        .put("sft_examples", r.getInteger("sft_examples")).put("preference_pairs", r.getInteger("preference_pairs"))
        .put("lines_now", r.getLong("lines")).put("created_by", r.getString("created_by"))
        .put("created_at", r.getOffsetDateTime("created_at").toString());
  }

  static HttpProblem notFound(String what) {
    return HttpProblem.notFound("not_found", "No such " + what + ".");
  }

  private static boolean uniqueViolation(Throwable err) {
    return err instanceof PgException pg && "23505".equals(pg.getSqlState());
  }
}
