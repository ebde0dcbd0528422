package ai.deepchat.channel.wechat;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * A tenant's channels as its admins see them: validated on the way in, the secret, token and
 * EncodingAESKey sealed ({@link ChannelSecrets}) and written but never read back (only whether each is
 * set), each change audited in its own transaction.
 */
final class ChannelSettings {

  private static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern AGENT_ID = Pattern.compile("\\d{1,12}");
  /** WeChat's admin page: 3 to 32 letters or digits. */
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9]{3,32}");
  private static final Pattern AES_KEY = Pattern.compile("[A-Za-z0-9]{43}");
  private static final Set<String> FIELDS = Set.of("kind", "name", "appId", "agentId", "appSecret", "token",
      "encodingAesKey", "mode", "welcomeMessage", "enabled");
  private static final Set<String> SECRETS = Set.of("appSecret", "token", "encodingAesKey");
  private static final Map<String, String> COLUMN = Map.of("name", "name", "appId", "app_id", "agentId", "agent_id",
      "appSecret", "app_secret", "token", "token", "encodingAesKey", "encoding_aes_key", "mode", "mode",
      "welcomeMessage", "welcome_message", "enabled", "enabled");
  private static final String COLUMNS = "id, kind, name, app_id, agent_id, mode, welcome_message, enabled, "
      + "app_secret <> '' AS secret_set, encoding_aes_key IS NOT NULL AS key_set, created_at, updated_at";

  private final Database db;
  private final AuditTrail audit;
  private final ChannelSecrets secrets;

  ChannelSettings(Database db, AuditTrail audit, ChannelSecrets secrets) {
    this.db = db;
    this.audit = audit;
    this.secrets = secrets;
  }

  Future<JsonArray> list(UUID tenant) {
    return db.inTenant(tenant, c -> c.preparedQuery("SELECT " + COLUMNS + " FROM channels ORDER BY created_at")
        .execute().map(rows -> {
          JsonArray out = new JsonArray();
          rows.forEach(r -> out.add(json(r)));
          return out;
        }));
  }

  Future<JsonObject> create(UUID tenant, JsonObject in, String actor, String ip) {
    Map<String, Object> v = validated(in, null);
    for (String required : List.of("kind", "name", "appId", "appSecret", "token", "mode")) {
      if (!v.containsKey(required)) {
        throw HttpProblem.badRequest("invalid_value", "'" + required + "' is required.");
      }
    }
    checkMode(v, (String) v.get("kind"), (String) v.get("mode"), v.get("encodingAesKey") != null, v.get("agentId"));
    UUID id = UUID.randomUUID(); // the secrets are sealed for this row's id
    return db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO channels (id, tenant_id, kind, name, app_id, agent_id, "
            + "app_secret, token, encoding_aes_key, mode, welcome_message, enabled) VALUES ($11, app_tenant(), $1, $2, $3, "
            + "$4, $5, $6, $7, $8, $9, $10) RETURNING " + COLUMNS)
        .execute(Tuple.of(v.get("kind"), v.get("name"), v.get("appId"), v.get("agentId"),
            sealed(tenant, id, "appSecret", v), sealed(tenant, id, "token", v)).addValue(sealed(tenant, id, "encodingAesKey", v))
            .addValue(v.get("mode")).addValue(v.getOrDefault("welcomeMessage", ""))
            .addValue(v.getOrDefault("enabled", true)).addValue(id))
        .compose(rows -> {
          JsonObject out = json(rows.iterator().next());
          return audit.append(c, entry(tenant, actor, "channel.create", out.getString("id"), ip, v)).map(out);
        }));
  }

  /** Changes the given fields; a secret left out keeps its value. */
  Future<JsonObject> update(UUID tenant, UUID id, JsonObject in, String actor, String ip) {
    Map<String, Object> v = validated(in, "kind");
    return db.inTenant(tenant, c -> c.preparedQuery("SELECT kind, mode, encoding_aes_key IS NOT NULL AS key_set, "
            + "agent_id FROM channels WHERE id = $1 FOR UPDATE").execute(Tuple.of(id))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(HttpProblem.notFound("channel_not_found", "No such channel."));
          }
          Row r = rows.iterator().next();
          checkMode(v, r.getString("kind"), (String) v.getOrDefault("mode", r.getString("mode")),
              v.get("encodingAesKey") != null || r.getBoolean("key_set"), v.getOrDefault("agentId", r.getString("agent_id")));
          List<String> sets = new ArrayList<>();
          Tuple t = Tuple.of(id);
          v.forEach((field, value) -> {
            t.addValue(SECRETS.contains(field) ? sealed(tenant, id, field, v) : value);
            sets.add(COLUMN.get(field) + " = $" + t.size());
          });
          sets.add("updated_at = now()");
          return c.preparedQuery("UPDATE channels SET " + String.join(", ", sets) + " WHERE id = $1 RETURNING " + COLUMNS)
              .execute(t).compose(updated -> {
                JsonObject out = json(updated.iterator().next());
                return audit.append(c, entry(tenant, actor, "channel.update", id.toString(), ip, v)).map(out);
              });
        }));
  }

  Future<Void> delete(UUID tenant, UUID id, String actor, String ip) {
    return db.inTenant(tenant, c -> c.preparedQuery("DELETE FROM channels WHERE id = $1").execute(Tuple.of(id))
        .compose(rows -> rows.rowCount() == 0
            ? Future.failedFuture(HttpProblem.notFound("channel_not_found", "No such channel."))
            : audit.append(c, entry(tenant, actor, "channel.delete", id.toString(), ip, Map.of())).mapEmpty()));
  }

  /** The value given for secret {@code field}, sealed for its column of this channel. */
  private String sealed(UUID tenant, UUID channel, String field, Map<String, Object> v) {
    return secrets.seal(tenant, channel, COLUMN.get(field), (String) v.get(field));
  }

  private static Map<String, Object> validated(JsonObject in, String immutable) {
    Map<String, Object> v = new LinkedHashMap<>();
    for (String field : in.fieldNames()) {
      if (!FIELDS.contains(field) || field.equals(immutable)) {
        throw HttpProblem.badRequest("invalid_value", "Unknown or unchangeable field '" + field + "'.");
      }
      Object value = in.getValue(field);
      if (field.equals("enabled")) {
        if (!(value instanceof Boolean)) {
          throw HttpProblem.badRequest("invalid_value", "'enabled' must be true or false.");
        }
        v.put(field, value);
        continue;
      }
      if (!(value instanceof String s)) {
        throw HttpProblem.badRequest("invalid_value", "'" + field + "' must be a string.");
      }
      String why = switch (field) {
        case "kind" -> s.equals(ChannelConfig.WECHAT) || s.equals(ChannelConfig.WECOM) ? null : "wechat or wecom";
        case "name" -> !s.isBlank() && s.length() <= 100 ? null : "1 to 100 characters";
        case "appId" -> APP_ID.matcher(s).matches() ? null : "the AppID or CorpID (letters, digits, '-', '_')";
        case "agentId" -> AGENT_ID.matcher(s).matches() ? null : "the WeCom AgentId (digits)";
        case "appSecret" -> !s.isBlank() && s.length() <= 128 ? null : "the AppSecret (1 to 128 characters)";
        case "token" -> TOKEN.matcher(s).matches() ? null : "3 to 32 letters or digits";
        case "encodingAesKey" -> AES_KEY.matcher(s).matches() ? null : "43 letters or digits";
        case "mode" -> Set.of("plaintext", "compatible", "safe").contains(s) ? null : "plaintext, compatible or safe";
        default -> s.length() <= 600 ? null : "at most 600 characters";
      };
      if (why != null) {
        throw HttpProblem.badRequest("invalid_value", "'" + field + "' must be " + why + ".");
      }
      v.put(field, s);
    }
    return v;
  }

  private static void checkMode(Map<String, Object> v, String kind, String mode, boolean hasKey, Object agentId) {
    if (!"plaintext".equals(mode) && !hasKey) {
      throw HttpProblem.badRequest("invalid_value", "Modes compatible and safe need 'encodingAesKey'.");
    }
    if (ChannelConfig.WECOM.equals(kind) && (!"safe".equals(mode) || agentId == null)) {
      throw HttpProblem.badRequest("invalid_value", "A WeCom channel is always in safe mode and needs 'agentId'.");
    }
  }

  private static AuditEntry entry(UUID tenant, String actor, String action, String target, String ip,
                                  Map<String, Object> values) {
    Map<String, Object> details = new LinkedHashMap<>();
    values.forEach((k, val) -> details.put(k, SECRETS.contains(k) ? "(changed)" : val));
    return new AuditEntry(tenant.toString(), actor, action, target, ip, details);
  }

  private static JsonObject json(Row r) {
    String kind = r.getString("kind");
    return new JsonObject().put("id", r.getUUID("id").toString()).put("object", "channel").put("kind", kind)
        .put("name", r.getString("name")).put("appId", r.getString("app_id")).put("agentId", r.getString("agent_id"))
        .put("mode", r.getString("mode")).put("welcomeMessage", r.getString("welcome_message"))
        .put("enabled", r.getBoolean("enabled")).put("appSecretSet", r.getBoolean("secret_set"))
        .put("tokenSet", true).put("encodingAesKeySet", r.getBoolean("key_set"))
        .put("callbackPath", "/channels/" + kind + "/" + r.getUUID("id"))
        .put("createdAt", r.getOffsetDateTime("created_at").toString());
  }
}
