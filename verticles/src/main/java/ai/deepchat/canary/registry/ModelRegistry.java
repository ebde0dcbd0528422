package ai.deepchat.canary.registry;

import ai.deepchat.canary.guard.LiveWorkers;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.SqlStates;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import ai.deepchat.platform.outbound.OutboundUrl;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Creates, lists and changes model versions of a {@link Scope}. Every change is audited in its own
 * transaction and announced to the cluster after commit. State changes that belong to a rollout
 * (draft → canary, canary → stable/draft) are made by the rollout service.
 */
public final class ModelRegistry {

  /** How many stable versions are kept: the serving one and two ready for an instant rollback. */
  public static final int KEPT_STABLE = 3;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:\\-]{0,99}");
  // a base model key, or "<base>+<adapter>" for a LoRA adapter served over it (EngineMessages.adapterModelKey)
  private static final Pattern TENANT_ADAPTER =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\..*");
  private static final Pattern MODEL_KEY =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\-]{0,99}(\\+[A-Za-z0-9][A-Za-z0-9._\\-]{0,99})?");

  /** The fields of a new version or of an update; null fields are left as they are on update. */
  public record VersionSpec(String name, Backend backend, String location, JsonObject params,
                            String systemPromptTemplate) {
  }

  private final Database database;
  private final ChangeLog changes;
  private final OutboundPolicy outbound;

  /** {@code outbound}: the policy an openai version's URLs (location, params.fallback.location) must pass. */
  public ModelRegistry(Database database, ChangeLog changes, OutboundPolicy outbound) {
    this.database = database;
    this.changes = changes;
    this.outbound = outbound;
  }

  public Future<ModelVersion> create(Scope scope, VersionSpec spec, Actor actor) {
    try {
      validate(spec, true);
      validateAdapterOwner(scope, spec.backend(), spec.location());
      validateVision(spec.backend(), spec.params());
    } catch (CanaryException e) {
      return Future.failedFuture(e);
    }
    String sql = "INSERT INTO " + scope.versions() + " (" + (scope.platform() ? "" : "tenant_id, ")
        + "name, backend, location, params, system_prompt_template) VALUES ("
        + (scope.platform() ? "" : "$6, ") + "$1, $2, $3, $4, $5) RETURNING " + ModelVersion.COLUMNS;
    Tuple args = Tuple.of(spec.name(), spec.backend().sql(), spec.location(),
        spec.params() == null ? new JsonObject() : spec.params(),
        spec.systemPromptTemplate() == null ? "" : spec.systemPromptTemplate());
    if (!scope.platform()) {
      args.addUUID(scope.tenantId());
    }
    return scope.tx(database, c -> c.preparedQuery(sql).execute(args)
            .map(rows -> ModelVersion.from(scope, rows.iterator().next()))
            .compose(v -> changes.record(c, scope, actor, "model_version.created", v.id().toString(),
                Map.of("name", v.name(), "backend", v.backend().sql(), "location", v.location())).map(v)))
        .recover(ModelRegistry::duplicateName)
        .onSuccess(v -> changes.publish(scope, "version created"));
  }

  public Future<List<ModelVersion>> list(Scope scope) {
    return scope.tx(database, c -> list(c, scope));
  }

  public static Future<List<ModelVersion>> list(SqlConnection c, Scope scope) {
    return c.query("SELECT " + ModelVersion.COLUMNS + " FROM " + scope.versions()
            + " ORDER BY CASE state WHEN 'stable' THEN 0 WHEN 'canary' THEN 1 WHEN 'draft' THEN 2 ELSE 3 END,"
            + " stable_since DESC NULLS LAST, name").execute()
        .map(rows -> {
          List<ModelVersion> out = new ArrayList<>();
          rows.forEach(r -> out.add(ModelVersion.from(scope, r)));
          return out;
        });
  }

  public Future<ModelVersion> get(Scope scope, UUID id) {
    return scope.tx(database, c -> get(c, scope, id, false));
  }

  /** The version, locked for update when asked; 404 when it does not exist in this scope. */
  public static Future<ModelVersion> get(SqlConnection c, Scope scope, UUID id, boolean lock) {
    return c.preparedQuery("SELECT " + ModelVersion.COLUMNS + " FROM " + scope.versions() + " WHERE id = $1"
            + (lock ? " FOR UPDATE" : "")).execute(Tuple.of(id))
        .map(rows -> {
          if (rows.size() == 0) {
            throw CanaryException.notFound("model version");
          }
          return ModelVersion.from(scope, rows.iterator().next());
        });
  }

  /**
   * Changes a version's fields. Parameters and the system prompt template may change in any state but
   * retired; the backend, location and name only while it is a draft (a serving version keeps what
   * its live workers announce).
   */
  public Future<ModelVersion> update(Scope scope, UUID id, VersionSpec spec, Actor actor) {
    try {
      validate(spec, false);
    } catch (CanaryException e) {
      return Future.failedFuture(e);
    }
    return scope.tx(database, c -> get(c, scope, id, true).compose(current -> {
      if (current.state() == VersionState.RETIRED) {
        throw CanaryException.conflict("version_retired", "a retired version cannot change");
      }
      boolean identity = spec.name() != null || spec.backend() != null || spec.location() != null;
      if (identity && current.state() != VersionState.DRAFT) {
        throw CanaryException.conflict("version_not_draft",
            "name, backend and location can change only while the version is a draft");
      }
      Backend backend = spec.backend() == null ? current.backend() : spec.backend();
      String location = spec.location() == null ? current.location() : spec.location();
      validateLocation(backend, location);
      validateAdapterOwner(scope, backend, location);
      validateVision(backend, spec.params() == null ? current.params() : spec.params());
      Map<String, Object> changed = new LinkedHashMap<>();
      if (spec.name() != null) changed.put("name", spec.name());
      if (spec.backend() != null) changed.put("backend", backend.sql());
      if (spec.location() != null) changed.put("location", location);
      if (spec.params() != null) changed.put("params", "changed");
      if (spec.systemPromptTemplate() != null) changed.put("systemPromptTemplate", "changed");
      return c.preparedQuery("UPDATE " + scope.versions() + " SET name = $2, backend = $3, location = $4,"
              + " params = $5, system_prompt_template = $6, updated_at = now() WHERE id = $1 RETURNING "
              + ModelVersion.COLUMNS)
          .execute(Tuple.of(id, spec.name() == null ? current.name() : spec.name(), backend.sql(), location,
              spec.params() == null ? current.params() : spec.params(),
              spec.systemPromptTemplate() == null ? current.systemPromptTemplate() : spec.systemPromptTemplate()))
          .map(rows -> ModelVersion.from(scope, rows.iterator().next()))
          .compose(v -> changes.record(c, scope, actor, "model_version.updated", id.toString(), changed).map(v));
    })).recover(ModelRegistry::duplicateName).onSuccess(v -> changes.publish(scope, "version updated"));
  }

  /** Retires a draft, or a stable version that no longer serves and no active rollout uses. */
  public Future<ModelVersion> retire(Scope scope, UUID id, Actor actor) {
    return scope.tx(database, c -> get(c, scope, id, true).compose(v -> {
      if (!v.state().canMoveTo(VersionState.RETIRED)) {
        throw CanaryException.conflict("invalid_transition", "a " + v.state().sql() + " version cannot be retired");
      }
      return servingStable(c, scope).compose(serving -> {
        if (serving != null && serving.id().equals(id)) {
          throw CanaryException.conflict("version_serving",
              "the serving stable version cannot be retired; activate another stable version first");
        }
        return c.preparedQuery("SELECT 1 FROM " + scope.rollouts() + " WHERE state = 'active' AND"
            + " (stable_version_id = $1 OR candidate_version_id = $1 OR arms @> $2::jsonb)")
            .execute(Tuple.of(id, "[{\"versionId\":\"" + id + "\"}]"));
      }).compose(active -> {
        if (active.size() > 0) {
          throw CanaryException.conflict("version_in_rollout", "an active rollout uses this version");
        }
        return setState(c, scope, id, VersionState.RETIRED);
      }).compose(x -> changes.record(c, scope, actor, "model_version.retired", id.toString(),
          Map.of("name", v.name(), "from", v.state().sql()))).compose(x -> get(c, scope, id, false));
    })).onSuccess(v -> changes.publish(scope, "version retired"));
  }

  /**
   * Makes a version the serving stable one: a draft when the scope has no stable version yet (first
   * deployment), or an older stable version kept for rollback (an instant rollback, since its workers
   * still serve it). Refused while a rollout is active: end it with promote or rollback first.
   */
  public Future<ModelVersion> activate(Scope scope, UUID id, Actor actor, String reason) {
    return scope.tx(database, c -> get(c, scope, id, true).compose(v -> c.query("SELECT 1 FROM " + scope.rollouts()
            + " WHERE state = 'active'").execute()
        .compose(active -> {
          if (active.size() > 0) {
            throw CanaryException.conflict("rollout_active", "a rollout is active; promote or roll it back first");
          }
          return servingStable(c, scope);
        })
        .compose(serving -> {
          if (v.state() == VersionState.DRAFT && serving != null) {
            throw CanaryException.conflict("has_stable",
                "a stable version already serves; start a rollout to replace it");
          }
          if (v.state() != VersionState.DRAFT && v.state() != VersionState.STABLE) {
            throw CanaryException.conflict("invalid_transition", "a " + v.state().sql() + " version cannot serve");
          }
          if (serving != null && serving.id().equals(id)) {
            return Future.succeededFuture(v);
          }
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("name", v.name());
          details.put("previous", serving == null ? null : serving.id().toString());
          details.put("reason", reason == null ? "" : reason);
          return makeServing(c, scope, id)
              .compose(x -> changes.record(c, scope, actor, "model_version.activated", id.toString(), details))
              .compose(x -> get(c, scope, id, false));
        })))
        .onSuccess(v -> changes.publish(scope, "version activated"));
  }

  /** The serving stable version (newest stable_since), or null. */
  public static Future<ModelVersion> servingStable(SqlConnection c, Scope scope) {
    return c.query("SELECT " + ModelVersion.COLUMNS + " FROM " + scope.versions()
            + " WHERE state = 'stable' ORDER BY stable_since DESC NULLS LAST LIMIT 1").execute()
        .map(rows -> rows.size() == 0 ? null : ModelVersion.from(scope, rows.iterator().next()));
  }

  /**
   * Marks {@code id} stable and serving (stable_since now; updated_at too, for readers that order by
   * it), then retires the stable versions beyond the newest {@link #KEPT_STABLE}.
   */
  public static Future<Void> makeServing(SqlConnection c, Scope scope, UUID id) {
    return c.preparedQuery("UPDATE " + scope.versions() + " SET state = 'stable', stable_since = clock_timestamp(),"
            + " updated_at = clock_timestamp() WHERE id = $1").execute(Tuple.of(id))
        .compose(x -> c.query("UPDATE " + scope.versions() + " SET state = 'retired', updated_at = now() WHERE id IN ("
            + "SELECT id FROM " + scope.versions() + " WHERE state = 'stable' ORDER BY stable_since DESC NULLS LAST"
            + " OFFSET " + KEPT_STABLE + ")").execute())
        .mapEmpty();
  }

  public static Future<Void> setState(SqlConnection c, Scope scope, UUID id, VersionState state) {
    return c.preparedQuery("UPDATE " + scope.versions() + " SET state = $2, updated_at = now() WHERE id = $1")
        .execute(Tuple.of(id, state.sql())).mapEmpty();
  }

  private static <T> Future<T> duplicateName(Throwable err) {
    if (SqlStates.isUniqueViolation(err)) {
      return Future.failedFuture(CanaryException.conflict("name_taken", "a model version with this name exists"));
    }
    return Future.failedFuture(err);
  }

  private void validate(VersionSpec spec, boolean creating) {
    if (creating && (spec.name() == null || spec.backend() == null || spec.location() == null)) {
      throw CanaryException.invalid("name, backend and location are required");
    }
    if (spec.name() != null && !NAME.matcher(spec.name()).matches()) {
      throw CanaryException.invalidField("name", "name must be 1-100 letters, digits, '.', '_', ':' or '-'");
    }
    if (creating) {
      validateLocation(spec.backend(), spec.location());
    } else if (spec.location() != null && spec.backend() != null) {
      validateLocation(spec.backend(), spec.location());
    }
    if (spec.systemPromptTemplate() != null && spec.systemPromptTemplate().length() > 20_000) {
      throw CanaryException.invalid("systemPromptTemplate is longer than 20000 characters");
    }
    if (spec.params() != null) {
      try {
        SamplingDefaults.validate(spec.params());
      } catch (CanaryException e) {
        throw e.param() != null ? e : CanaryException.invalidField("params", e.getMessage());
      }
      validateFallback(spec.params().getJsonObject("fallback"));
    }
  }

  /**
   * params.vision: pictures go to the model as OpenAI image parts, which only an OpenAI-compatible
   * endpoint takes; the local engine is text-only, as primary or as fallback.
   */
  static void validateVision(Backend backend, JsonObject params) {
    if (params == null || !Boolean.TRUE.equals(params.getValue("vision"))) {
      return;
    }
    JsonObject fallback = params.getJsonObject("fallback");
    boolean localFallback = fallback != null && "local".equals(String.valueOf(fallback.getValue("backend", "openai")));
    if (backend == Backend.LOCAL || localFallback) {
      throw CanaryException.invalidField("params.vision", "vision needs an openai backend: the local engine reads "
          + "text only" + (localFallback ? " (params.fallback is local)" : ""));
    }
  }

  /** params.fallback: {backend (default openai), location (openai: empty for the platform's API), model, api_key}. */
  private void validateFallback(JsonObject fallback) {
    if (fallback == null) {
      return;
    }
    Backend backend;
    try {
      backend = Backend.parse(String.valueOf(fallback.getValue("backend", "openai")));
    } catch (IllegalArgumentException e) {
      throw CanaryException.invalidField("params.fallback.backend", "fallback.backend must be local or openai");
    }
    if (!(fallback.getValue("location", "") instanceof String location)) {
      throw CanaryException.invalidField("params.fallback.location", "fallback.location must be a string");
    }
    if (backend == Backend.OPENAI && location.isBlank()) {
      return; // the platform's own API (DEEPSEEK_BASE_URL)
    }
    validateLocation(backend, location, "fallback.location");
  }

  /**
   * A tenant's version may name only that tenant's LoRA adapters, folders named {@code <tenant id>.<name>}
   * under the model's adapters/: an adapter trained on one tenant's conversations can repeat them, so it
   * must never answer another tenant. Platform versions (which answer every tenant without versions of
   * its own) may name only platform adapters, those without a tenant id.
   */
  static void validateAdapterOwner(Scope scope, Backend backend, String location) {
    int plus = backend == Backend.LOCAL && location != null
        ? location.indexOf(EngineMessages.ADAPTER_SEPARATOR) : -1;
    if (plus < 0) {
      return;
    }
    String adapter = location.substring(plus + 1);
    if (!scope.platform() && !adapter.startsWith(scope.tenantId() + ".")) {
      throw CanaryException.invalid("a tenant's adapter is the folder '" + scope.tenantId()
          + ".<name>' under the base model's adapters/; other adapters belong to other tenants or the platform");
    }
    if (scope.platform() && TENANT_ADAPTER.matcher(adapter).matches()) {
      throw CanaryException.invalid("a platform version answers every tenant: it may not serve a tenant's adapter");
    }
  }

  void validateLocation(Backend backend, String location) {
    validateLocation(backend, location, "location");
  }

  private void validateLocation(Backend backend, String location, String field) {
    String param = field.equals("location") ? field : "params." + field;
    if (backend == Backend.LOCAL && (location == null || !MODEL_KEY.matcher(location).matches())) {
      String folder = location != null && (location.contains("/") || location.contains("\\"))
          ? "'" + location + "' looks like a folder; " : "";
      throw CanaryException.invalidField(param, folder + "a local version's " + field + " is the engine model key a"
          + " worker serves (ENGINE_MODEL_KEY, for example " + EngineMessages.TEST_MODEL_KEY + "): 1-100 letters,"
          + " digits, '.', '_' or '-', then '+' and an adapter name of the same kind for a LoRA adapter");
    }
    if (backend == Backend.OPENAI && (location == null || location.length() > 500
        || !(location.startsWith("https://") || location.startsWith("http://")))) {
      throw CanaryException.invalidField(param, "an openai version's " + field + " is the endpoint's https base URL");
    }
    if (backend == Backend.OPENAI) {
      OutboundUrl checked;
      try {
        checked = outbound.check(location);
      } catch (OutboundRefusedException e) {
        throw CanaryException.urlRefused(param, field + " refused: " + e.getMessage());
      }
      // prompts and answers travel in the clear over http: only to an endpoint the operator listed
      if (!checked.https() && !outbound.allowListed(checked)) {
        throw CanaryException.urlRefused(param, field + " refused: an endpoint is called over https; plain http"
            + " only for endpoints the operator lists in OUTBOUND_ALLOWED_HOSTS");
      }
    }
  }

  /**
   * Refuses a local version whose model key no live engine worker announces (cluster-wide, within the
   * announcement's ttl): such a version could never answer. The console and the API call this before
   * they create or relocate a version (the message lists the keys served now), after the checks every
   * change gets, so a malformed or refused location is reported as such.
   */
  public void requireServed(VersionSpec spec, boolean creating, LiveWorkers live) {
    validate(spec, creating);
    if (spec.backend() == Backend.LOCAL && spec.location() != null && !live.serves(spec.location())) {
      Set<String> served = live.liveModelKeys();
      throw CanaryException.invalidField("location", "no engine worker serves the model key '" + spec.location()
          + "'" + (served.isEmpty() ? " (no worker is live now)" : "; served now: " + String.join(", ", served)));
    }
  }
}
