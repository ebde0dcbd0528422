package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.ListenGuard;
import ai.deepchat.platform.db.TenantValues;
import ai.deepchat.platform.engine.EngineMessages;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * Chooses model versions from the tenant's model_versions and rollouts. Row mapping: backend 'local'
 * runs location as the engine's model key; backend 'openai' calls location as base URL (empty: the
 * configured DEEPSEEK_BASE_URL with DEEPSEEK_API_KEY), params.model names the remote model,
 * params.api_key is the tenant's own key for its own endpoint, params.context_tokens the window, and
 * params.fallback ({backend, location, model, api_key}) the fallback backend, params.vision whether it reads
 * pictures.
 */
public final class TenantModelDispatcher implements ModelDispatcher {

  public static final String TEST_MODEL_KEY = EngineMessages.TEST_MODEL_KEY;

  private static final String COLUMNS = "id, name, backend, location, params";

  private final Database database;
  private final PlatformConfig.Chat chat;
  private final ModelChoice platformDefault;

  public TenantModelDispatcher(Database database, PlatformConfig config) {
    this.database = database;
    this.chat = config.chat();
    this.platformDefault = platformDefault(config);
  }

  /** MODEL_DIR served locally (DeepSeek's API as fallback when keyed), else DeepSeek's API, else the test model. */
  static ModelChoice platformDefault(PlatformConfig config) {
    PlatformConfig.Chat chat = config.chat();
    BackendSpec remote = chat.deepseekApiKey()
        .map(key -> BackendSpec.openai(chat.deepseekBaseUrl(), chat.deepseekModel(), key)).orElse(null);
    if (config.engine().modelDir().isPresent()) {
      Path dir = config.engine().modelDir().get();
      String key = chat.engineModelKey().orElse(dir.getFileName() == null ? "default" : dir.getFileName().toString());
      return new ModelChoice(null, key, BackendSpec.local(key), remote, chat.contextTokens(), false);
    }
    if (remote != null) {
      return new ModelChoice(null, chat.deepseekModel(), remote, null, chat.contextTokens(), false);
    }
    return new ModelChoice(null, TEST_MODEL_KEY, BackendSpec.local(TEST_MODEL_KEY), null,
        Math.min(chat.contextTokens(), 2048), true);
  }

  @Override
  public ModelChoice platformDefault() {
    return platformDefault;
  }

  @Override
  public Future<ModelChoice> choose(UUID tenantId, UUID conversationId, String requestedModel) {
    return database.inTenant(tenantId, c -> choose(c, tenantId, conversationId, requestedModel));
  }

  @Override
  public Future<ModelStep> inTransaction(UUID tenantId, UUID conversationId, boolean stored, String requestedModel) {
    return Future.succeededFuture(step(c -> choose(c, tenantId, conversationId, requestedModel)));
  }

  /**
   * A step whose choice is made by {@code choice} on the transaction's connection, or, given none ({@link
   * #NO_STATEMENTS}), from the node's copies alone: every read below fails with {@link #NEEDS_STATEMENT} then,
   * and the copies' answers are futures completed at once.
   */
  static ModelStep step(Function<SqlConnection, Future<ModelChoice>> choice) {
    return new ModelStep() {
      @Override
      public Future<ModelChoice> apply(SqlConnection c) {
        return choice.apply(c);
      }

      @Override
      public ModelChoice withoutStatements() {
        Future<ModelChoice> made = choice.apply(NO_STATEMENTS);
        return made.succeeded() ? made.result() : null;
      }
    };
  }

  /** The connection {@link ModelStep#withoutStatements} passes: none, so nothing may be read. */
  static final SqlConnection NO_STATEMENTS = null;

  /** A read {@link #NO_STATEMENTS} cannot make (no stack: it is an answer, not an error). */
  static final RuntimeException NEEDS_STATEMENT = new RuntimeException("needs a statement", null, false, false) {
  };

  /**
   * {@link #choose(UUID, UUID, String)} on the caller's transaction, scoped to the tenant {@code tenantId}
   * ({@link #NO_STATEMENTS}: from the node's copies only).
   */
  Future<ModelChoice> choose(SqlConnection c, UUID tenantId, UUID conversationId, String requestedModel) {
    boolean unnamed = ModelNames.unnamed(requestedModel);
    if (ModelNames.defaultAlias(requestedModel) && !requestedModel.equals(platformDefault.name())) {
      return byName(c, tenantId, requestedModel)
          .compose(row -> row != null ? Future.succeededFuture(row) : choose(c, tenantId, conversationId, null));
    }
    if (!unnamed && requestedModel.equals(platformDefault.name())) {
      return byName(c, tenantId, requestedModel).map(row -> row == null ? platformDefault : row);
    }
    return (unnamed ? stableOrCandidate(c, tenantId, conversationId) : byName(c, tenantId, requestedModel))
        .compose(choice -> {
          if (choice != null) {
            return Future.succeededFuture(choice);
          }
          if (unnamed) {
            return Future.succeededFuture(platformDefault);
          }
          return Future.failedFuture(BusFailure.MODEL_NOT_FOUND.exception(
              "The model '" + requestedModel + "' does not exist or you do not have access to it."));
        });
  }

  /** The workspace's version of that name that is not retired; null when there is none. */
  public Future<ModelChoice> named(UUID tenantId, String name) {
    return database.inTenant(tenantId, c -> byName(c, tenantId, name));
  }

  /** {@link #named(UUID, String)} on the caller's transaction, scoped to the tenant {@code tenantId}. */
  Future<ModelChoice> named(SqlConnection c, UUID tenantId, String name) {
    return byName(c, tenantId, name);
  }

  @Override
  public Future<List<ModelChoice>> available(UUID tenantId) {
    return database.inTenant(tenantId, c -> c.preparedQuery("SELECT " + COLUMNS
            + " FROM model_versions WHERE state <> 'retired' ORDER BY name").execute())
        .map(rows -> {
          List<ModelChoice> all = new ArrayList<>();
          boolean defaultShadowed = false;
          for (Row row : rows) {
            ModelChoice choice = fromRow(row);
            defaultShadowed |= choice.name().equals(platformDefault.name());
            all.add(choice);
          }
          if (!defaultShadowed) {
            all.add(0, platformDefault);
          }
          return all;
        });
  }

  /**
   * The version of that name: from the node's copy of the tenant's versions when it holds one (see {@link
   * TenantServing}; the unnamed choice makes it), else read (and added to the copy held when the read began).
   */
  private Future<ModelChoice> byName(SqlConnection c, UUID tenantId, String name) {
    TenantServing held = database.modelRouting().get(tenantId) instanceof TenantServing k && k.madeWith(chat) ? k : null;
    if (held != null) {
      Optional<Optional<ModelChoice>> known = held.named(name);
      if (known.isPresent()) {
        return Future.succeededFuture(known.get().orElse(null));
      }
    }
    if (c == NO_STATEMENTS) {
      return Future.failedFuture(NEEDS_STATEMENT);
    }
    return c.preparedQuery("SELECT " + COLUMNS + " FROM model_versions WHERE name = $1 AND state <> 'retired'")
        .execute(Tuple.of(name))
        .map(rows -> {
          ModelChoice read = rows.size() == 0 ? null : fromRow(rows.iterator().next());
          if (held != null) {
            held.rememberNamed(name, read);
          }
          return read;
        });
  }

  /**
   * The stable version, or an active canary/A-B candidate for the share of conversations it covers: the node's
   * copy while it listens for changes of model_versions and rollouts (V54), else read here (and kept, unless a
   * change was announced meanwhile). Only this class stores values of that cache.
   */
  private Future<ModelChoice> stableOrCandidate(SqlConnection c, UUID tenantId, UUID conversationId) {
    TenantValues<Object> cache = database.modelRouting();
    if (cache.get(tenantId) instanceof TenantServing known && known.madeWith(chat)) {
      return Future.succeededFuture(known.choose(conversationId));
    }
    if (c == NO_STATEMENTS) {
      return Future.failedFuture(NEEDS_STATEMENT);
    }
    long startedAt = cache.begin();
    // a copy to keep must serve every conversation; one not kept needs the candidate only for a conversation
    boolean keeping = startedAt != ListenGuard.NOT_CACHING;
    return serving(c, keeping || conversationId != null).map(read -> {
      if (keeping) {
        cache.offer(tenantId, read, startedAt);
      }
      return read.choose(conversationId);
    });
  }

  /** The tenant's stable version and ({@code withCandidate}) its active canary/A-B candidate, read now. */
  private Future<TenantServing> serving(SqlConnection c, boolean withCandidate) {
    return c.preparedQuery("SELECT " + COLUMNS + " FROM model_versions WHERE state = 'stable' "
            + "ORDER BY updated_at DESC LIMIT 1").execute()
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(new TenantServing(null, null, 0, chat));
          }
          Row stable = rows.iterator().next();
          ModelChoice stableChoice = fromRow(stable);
          if (!withCandidate) {
            return Future.succeededFuture(new TenantServing(stableChoice, null, 0, chat));
          }
          return c.preparedQuery("SELECT v.id, v.name, v.backend, v.location, v.params, r.percentage "
                  + "FROM rollouts r JOIN model_versions v ON v.id = r.candidate_version_id "
                  + "WHERE r.state = 'active' AND r.mode IN ('canary', 'ab') AND r.stable_version_id = $1 "
                  + "AND v.state <> 'retired' ORDER BY r.created_at DESC LIMIT 1")
              .execute(Tuple.of(stable.getUUID("id")))
              .map(candidates -> {
                if (candidates.size() == 0) {
                  return new TenantServing(stableChoice, null, 0, chat);
                }
                Row candidate = candidates.iterator().next();
                return new TenantServing(stableChoice, fromRow(candidate),
                    candidate.getNumeric("percentage").doubleValue(), chat);
              });
        });
  }

  /** 0 ≤ bucket < 100, fixed per conversation so a conversation never switches models mid-way. */
  static double bucket(UUID conversationId) {
    long mixed = conversationId.getMostSignificantBits() * 31 + conversationId.getLeastSignificantBits();
    return Math.floorMod(mixed, 10_000) / 100.0;
  }

  private ModelChoice fromRow(Row row) {
    return toChoice(row.getUUID("id").toString(), row.getString("name"), row.getString("backend"),
        row.getString("location"), row.getJsonObject("params"));
  }

  /**
   * A model_versions row (or a registry version with the same fields) as the dispatcher runs it; public
   * so another chooser of versions (rollout routing) can hand its choice to the same backends.
   */
  public ModelChoice toChoice(String versionId, String name, String backend, String location, JsonObject params) {
    JsonObject p = params == null ? new JsonObject() : params;
    BackendSpec primary = spec(backend, location, p);
    JsonObject fb = p.getJsonObject("fallback");
    BackendSpec fallback = fb == null ? null : spec(fb.getString("backend", "openai"), fb.getString("location", ""), fb);
    int context = p.getInteger("context_tokens", chat.contextTokens());
    return new ModelChoice(versionId, name, primary, fallback, context,
        primary.kind() == BackendSpec.Kind.LOCAL && TEST_MODEL_KEY.equals(primary.target()), null,
        Boolean.TRUE.equals(p.getValue("vision")));
  }

  private BackendSpec spec(String backend, String location, JsonObject params) {
    if ("local".equals(backend)) {
      return BackendSpec.local(location);
    }
    String base = location == null || location.isBlank() ? chat.deepseekBaseUrl() : location.replaceAll("/+$", "");
    String key = params.getString("api_key");
    if ((key == null || key.isBlank()) && base.equals(chat.deepseekBaseUrl())) {
      key = chat.deepseekApiKey().orElse(null);
    }
    return BackendSpec.openai(base, params.getString("model", chat.deepseekModel()), key);
  }
}
