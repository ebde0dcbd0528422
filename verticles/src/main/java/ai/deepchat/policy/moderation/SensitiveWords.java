package ai.deepchat.policy.moderation;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Admin-side changes to a tenant's word list (for the console): each change is written with its audit
 * row in one transaction and, after the commit, announced on the bus so every node drops its cached
 * automaton. Words are trimmed; blank, over-long (200 chars) and duplicate words are refused or skipped.
 */
public final class SensitiveWords {

  public static final int MAX_WORD_CHARS = 200;
  public static final int MAX_WORDS_PER_CALL = 10_000;

  private final Vertx vertx;
  private final Database database;
  private final AuditLog audit;

  public SensitiveWords(Vertx vertx, Database database, AuditLog audit) {
    this.vertx = vertx;
    this.database = database;
    this.audit = audit;
  }

  public Future<List<String>> list(UUID tenantId) {
    return database.inTenant(tenantId, conn -> conn.query("SELECT word FROM sensitive_words ORDER BY word").execute()
        .map(rows -> {
          List<String> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(r.getString(0));
          }
          return out;
        }));
  }

  /** Adds words (already present ones are skipped); returns how many were new. */
  public Future<Integer> add(UUID tenantId, List<String> words, String actor, String ip) {
    Set<String> clean;
    try {
      clean = clean(words);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return change(tenantId, actor, ip, "sensitive_words.added", clean, conn -> conn.preparedQuery(
            "INSERT INTO sensitive_words (tenant_id, word) SELECT $1, w FROM unnest($2::text[]) w"
                + " ON CONFLICT (tenant_id, word) DO NOTHING")
        .execute(Tuple.tuple().addUUID(tenantId).addArrayOfString(clean.toArray(String[]::new)))
        .map(r -> r.rowCount()));
  }

  /** Removes words; returns how many existed. */
  public Future<Integer> remove(UUID tenantId, List<String> words, String actor, String ip) {
    Set<String> clean;
    try {
      clean = clean(words);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return change(tenantId, actor, ip, "sensitive_words.removed", clean, conn -> conn.preparedQuery(
            "DELETE FROM sensitive_words WHERE word = ANY($1::text[])")
        .execute(Tuple.tuple().addArrayOfString(clean.toArray(String[]::new))).map(r -> r.rowCount()));
  }

  private Future<Integer> change(UUID tenantId, String actor, String ip, String action, Set<String> words,
                                 java.util.function.Function<io.vertx.sqlclient.SqlConnection, Future<Integer>> write) {
    return database.inTenant(tenantId, conn -> write.apply(conn)
            .compose(n -> audit.append(conn, new AuditEntry(tenantId.toString(), actor, action, "sensitive_words", ip,
                Map.of("words", List.copyOf(words), "changed", n))).map(receipt -> n)))
        .onSuccess(n -> ModerationService.publishChanged(vertx, tenantId));
  }

  private static Set<String> clean(List<String> words) {
    if (words == null || words.isEmpty() || words.size() > MAX_WORDS_PER_CALL) {
      throw new IllegalArgumentException("give 1 to " + MAX_WORDS_PER_CALL + " words");
    }
    Set<String> out = new LinkedHashSet<>();
    for (String w : words) {
      String t = w == null ? "" : w.strip();
      if (t.isEmpty() || t.length() > MAX_WORD_CHARS) {
        throw new IllegalArgumentException("each word must be 1 to " + MAX_WORD_CHARS + " characters");
      }
      out.add(t);
    }
    return out;
  }
}
