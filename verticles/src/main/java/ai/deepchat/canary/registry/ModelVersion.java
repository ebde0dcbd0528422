package ai.deepchat.canary.registry;

import ai.deepchat.platform.engine.EngineMessages;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * One registered model version. {@code params} holds the default sampling parameters (temperature,
 * top_p, top_k, max_tokens, ...) and backend settings the dispatcher reads (model, api_key,
 * context_tokens, fallback); {@code stableSince} is set while it is, or was, a stable version.
 * {@code tenantId} is null for a platform-wide version.
 */
public record ModelVersion(UUID id, UUID tenantId, String name, Backend backend, String location,
                           JsonObject params, String systemPromptTemplate, VersionState state,
                           Instant stableSince, Instant createdAt, Instant updatedAt) {

  public static final String COLUMNS = "id, name, backend, location, params, system_prompt_template, state, stable_since,"
      + " created_at, updated_at";

  public static ModelVersion from(Scope scope, Row row) {
    JsonObject params = row.getJsonObject("params");
    return new ModelVersion(row.getUUID("id"), scope.tenantId(), row.getString("name"),
        Backend.parse(row.getString("backend")), row.getString("location"),
        params == null ? new JsonObject() : params, row.getString("system_prompt_template"),
        VersionState.parse(row.getString("state")), instant(row.getOffsetDateTime("stable_since")),
        instant(row.getOffsetDateTime("created_at")), instant(row.getOffsetDateTime("updated_at")));
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }

  /** The engine model key of a local version; null for an OpenAI-compatible one. */
  public String modelKey() {
    return backend == Backend.LOCAL ? location : null;
  }

  /** The LoRA adapter of a local version served as "<base>+<adapter>", else null. */
  public String adapter() {
    int plus = backend == Backend.LOCAL ? location.indexOf(EngineMessages.ADAPTER_SEPARATOR) : -1;
    return plus < 0 ? null : location.substring(plus + 1);
  }

  /** The admin API's view; secrets in params (api_key) are never echoed. */
  public JsonObject toJson(boolean serving) {
    JsonObject shown = params.copy();
    if (shown.containsKey("api_key")) {
      shown.put("api_key", "********");
    }
    JsonObject fallback = shown.getJsonObject("fallback");
    if (fallback != null && fallback.containsKey("api_key")) {
      fallback.put("api_key", "********");
    }
    return new JsonObject()
        .put("id", id.toString())
        .put("scope", tenantId == null ? "platform" : "tenant")
        .put("name", name)
        .put("backend", backend.sql())
        .put("location", location)
        .put("adapter", adapter())
        .put("params", shown)
        .put("systemPromptTemplate", systemPromptTemplate)
        .put("state", state.sql())
        .put("serving", serving)
        .put("rollbackReady", state == VersionState.STABLE && !serving)
        .put("stableSince", stableSince == null ? null : stableSince.toString())
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString());
  }
}
