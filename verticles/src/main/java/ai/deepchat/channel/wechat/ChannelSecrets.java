package ai.deepchat.channel.wechat;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.SecretBox;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A channel's AppSecret, token and EncodingAESKey as stored: sealed with the node's {@link SecretBox} for
 * their tenant, channel and column (a value copied to another row or tenant does not open). Values stored
 * before encryption at rest still read as they are until {@link #resealAll} seals them.
 */
final class ChannelSecrets {

  private static final Logger LOG = LoggerFactory.getLogger(ChannelSecrets.class);
  /** The columns of {@code channels} that hold secrets. */
  static final List<String> COLUMNS = List.of("app_secret", "token", "encoding_aes_key");

  private final SecretBox box;

  ChannelSecrets(SecretBox box) {
    this.box = box;
  }

  /** {@code value} as {@code column} of that channel stores it (null stays null). */
  String seal(UUID tenant, UUID channel, String column, String value) {
    return value == null ? null : box.seal(value, aad(tenant, channel, column));
  }

  /**
   * The secret {@code column} of the channel in {@code r}; fails with {@link Unreadable}, naming the
   * channel, when it does not open on this node.
   */
  String open(Row r, String column) {
    String stored = r.getString(column);
    if (stored == null || !SecretBox.isSealed(stored)) {
      return stored; // stored before encryption at rest; resealAll seals it
    }
    UUID tenant = r.getUUID("tenant_id");
    UUID channel = r.getUUID("id");
    try {
      return box.open(stored, aad(tenant, channel, column));
    } catch (SecretBox.Unreadable e) {
      throw new Unreadable("channel '" + r.getString("name") + "' (" + channel + ", tenant " + tenant + "): its "
          + column + " cannot be decrypted: " + e.getMessage());
    }
  }

  private static String aad(UUID tenant, UUID channel, String column) {
    return "channels/" + tenant + "/" + channel + "/" + column;
  }

  /**
   * Seals with the current key every channel secret that is not yet (stored before encryption at rest, or
   * under a key since rotated out of SECRETS_KEY). Idempotent, and safe with nodes doing it at once: each
   * channel is rewritten under its row lock, only the columns still needing it. Returns how many channels
   * changed; a channel whose secrets do not open here is logged and left as it is.
   */
  Future<Integer> resealAll(Database db) {
    return db.global(c -> c.preparedQuery("SELECT tenant_id, id FROM channels_to_reseal($1)")
            .execute(Tuple.of(box.currentPrefix())))
        .compose(rows -> {
          List<Future<Boolean>> all = new ArrayList<>();
          rows.forEach(r -> all.add(reseal(db, r.getUUID("tenant_id"), r.getUUID("id")).recover(err -> {
            LOG.error("cannot reseal secrets: {}", err.getMessage());
            return Future.succeededFuture(false);
          })));
          return Future.all(all).map(f -> (int) all.stream().filter(Future::result).count());
        });
  }

  private Future<Boolean> reseal(Database db, UUID tenant, UUID channel) {
    return db.inTenant(tenant, c -> c.preparedQuery("SELECT id, tenant_id, name, " + String.join(", ", COLUMNS)
            + " FROM channels WHERE id = $1 FOR UPDATE").execute(Tuple.of(channel))
        .compose(rows -> rows.size() == 0 ? Future.succeededFuture(false) : write(c, rows.iterator().next())));
  }

  private Future<Boolean> write(SqlConnection c, Row r) {
    List<String> sets = new ArrayList<>();
    Tuple t = Tuple.of(r.getUUID("id"));
    for (String column : COLUMNS) {
      String stored = r.getString(column);
      if (stored != null && !stored.startsWith(box.currentPrefix())) {
        t.addValue(seal(r.getUUID("tenant_id"), r.getUUID("id"), column, open(r, column)));
        sets.add(column + " = $" + t.size());
      }
    }
    if (sets.isEmpty()) {
      return Future.succeededFuture(false); // another node was first
    }
    return c.preparedQuery("UPDATE channels SET " + String.join(", ", sets) + " WHERE id = $1").execute(t)
        .map(x -> {
          LOG.info("channel {}: secrets sealed with key {}", r.getUUID("id"), box.keyIds().get(0));
          return true;
        });
  }

  /** A channel whose stored secrets do not open on this node (another node's key, or changed in the database). */
  static final class Unreadable extends RuntimeException {
    Unreadable(String message) {
      super(message, null, false, false);
    }
  }
}
