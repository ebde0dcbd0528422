package ai.deepchat.policy.privacy;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static ai.deepchat.policy.PolicyTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

/** Retention against the real database: only conversations past their tenant's retention go. */
@ExtendWith(VertxExtension.class)
class RetentionJobTest {

  TestDatabase testDb;
  Database db;

  @BeforeEach
  void setUp(Vertx vertx) {
    testDb = TestDatabase.fresh(vertx);
    db = testDb.database();
  }

  private void conversations(UUID tenant, int n, int daysOld, String title) throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery(
            "WITH conv AS (INSERT INTO conversations (tenant_id, title, created_at, updated_at)"
                + " SELECT $1, $2, now() - make_interval(days => $3), now() - make_interval(days => $3)"
                + " FROM generate_series(1, $4) RETURNING id)"
                + " INSERT INTO messages (tenant_id, conversation_id, role, content) SELECT $1, id, 'user', 'hi' FROM conv")
        .execute(Tuple.of(tenant, title, daysOld, n))));
  }

  private long count(String sql, Object... params) throws Exception {
    try (Connection c = testDb.ownerJdbc(); PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      ResultSet rs = st.executeQuery();
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void deletesOnlyConversationsPastTheTenantsRetention() throws Exception {
    UUID shortLived = createTenant(db, "short");
    UUID longLived = createTenant(db, "long");
    exec(db, shortLived, "UPDATE tenant_settings SET retention_days = 30");
    conversations(shortLived, 2, 40, "expired");
    conversations(shortLived, 1, 10, "recent");
    conversations(longLived, 1, 40, "kept");
    // a shadow pair on every conversation of the short-lived tenant: it holds the question and both answers
    exec(db, shortLived, "INSERT INTO shadow_answers (tenant_id, rollout_id, conversation_id, stable_version_id, "
        + "candidate_version_id, prompt, stable_answer) SELECT tenant_id, gen_random_uuid(), id, gen_random_uuid(), "
        + "gen_random_uuid(), title, 'a' FROM conversations");

    UUID channel = UUID.randomUUID();
    exec(db, shortLived, "INSERT INTO channels (id, tenant_id, kind, name, app_id, app_secret, token, mode) VALUES ('"
        + channel + "', app_tenant(), 'wechat', 'c', 'wx1', 's', 'tok', 'plaintext')");
    exec(db, shortLived, "INSERT INTO channel_messages (tenant_id, channel_id, dedupe_key, open_id, msg_type, question, "
        + "status, received_at) VALUES (app_tenant(), '" + channel + "', 'msg:1', 'o1', 'text', '', 'sent', "
        + "now() - interval '40 days'), (app_tenant(), '" + channel + "', 'msg:2', 'o1', 'text', '', 'sent', "
        + "now() - interval '10 days'), (app_tenant(), '" + channel + "', 'msg:3', 'o1', 'text', 'q', 'received', "
        + "now() - interval '40 days')");
    // pictures users sent: one past the retention, one recent, one past it whose answer is still owed
    exec(db, shortLived, "INSERT INTO channel_media (tenant_id, channel_id, open_id, content_type, size_bytes, data, "
        + "received_at) SELECT app_tenant(), '" + channel + "', o, 'image/png', 1, '\\x89'::bytea, now() - make_interval(days => d) "
        + "FROM (VALUES ('o-old', 40), ('o-recent', 10), ('o-owed', 40)) AS t(o, d)");
    exec(db, shortLived, "UPDATE channel_messages SET media_id = (SELECT id FROM channel_media WHERE open_id = 'o-owed') "
        + "WHERE dedupe_key = 'msg:3'");

    RetentionJob job = new RetentionJob(db, new AuditLog(db), 90);
    assertThat(await(job.runOnce())).isEqualTo(2);
    // a channel message past the retention goes, unless its answer is still owed
    assertThat(count("SELECT count(*) FROM channel_messages WHERE dedupe_key = 'msg:1'")).isZero();
    assertThat(count("SELECT count(*) FROM channel_messages WHERE dedupe_key IN ('msg:2', 'msg:3')")).isEqualTo(2);
    // and so does a picture
    assertThat(count("SELECT count(*) FROM channel_media WHERE open_id = 'o-old'")).isZero();
    assertThat(count("SELECT count(*) FROM channel_media WHERE open_id IN ('o-recent', 'o-owed')")).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM conversations WHERE title = 'expired'")).isZero();
    assertThat(count("SELECT count(*) FROM shadow_answers WHERE tenant_id = ? AND prompt = 'expired'", shortLived))
        .isZero();
    assertThat(count("SELECT count(*) FROM shadow_answers WHERE tenant_id = ? AND prompt = 'recent'", shortLived))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        + " WHERE c.tenant_id = ?", shortLived)).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM messages WHERE tenant_id = ?", shortLived)).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM conversations WHERE title = 'recent'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM conversations WHERE title = 'kept'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM audit_log WHERE tenant_id = ? AND action = 'retention.purged'"
        + " AND (details->>'conversations')::int = 2", shortLived)).isEqualTo(1);

    // idempotent: a second run finds nothing and writes no audit row
    assertThat(await(job.runOnce())).isZero();
    assertThat(count("SELECT count(*) FROM audit_log WHERE tenant_id = ?", shortLived)).isEqualTo(1);
  }

  @Test
  void purgesInBatchesUntilNothingExpiredIsLeft() throws Exception {
    UUID tenant = createTenant(db, "many");
    exec(db, tenant, "UPDATE tenant_settings SET retention_days = 7");
    conversations(tenant, RetentionJob.BATCH * 2 + 17, 8, "old");
    conversations(tenant, 3, 6, "young");
    assertThat(await(new RetentionJob(db, new AuditLog(db), 90).purgeTenant(tenant))).isEqualTo(RetentionJob.BATCH * 2 + 17);
    assertThat(count("SELECT count(*) FROM conversations WHERE tenant_id = ?", tenant)).isEqualTo(3);
    assertThat(count("SELECT count(*) FROM audit_log WHERE tenant_id = ?", tenant)).isEqualTo(3);
    assertThat(await(new AuditLog(db).verify(tenant)).intact()).isTrue();
  }

  /** {@code n} outcomes of a rollout of the tenant's, {@code daysOld} days old, tagged by their total_ms. */
  private void outcomes(UUID tenant, int n, int daysOld, int tag) throws Exception {
    exec(db, tenant, "INSERT INTO model_versions (tenant_id, name, backend, location) SELECT app_tenant(), 'm', 'local', 'x'"
        + " WHERE NOT EXISTS (SELECT 1 FROM model_versions)");
    exec(db, tenant, "INSERT INTO rollouts (tenant_id, mode, stable_version_id) SELECT app_tenant(), 'canary', id"
        + " FROM model_versions WHERE NOT EXISTS (SELECT 1 FROM rollouts)");
    exec(db, tenant, "INSERT INTO rollout_outcomes (tenant_id, rollout_id, version_id, role, ok, total_ms, created_at)"
        + " SELECT app_tenant(), r.id, r.stable_version_id, 'stable', true, " + tag + ", now() - make_interval(days => "
        + daysOld + ") FROM rollouts r, generate_series(1, " + n + ")");
  }

  @Test
  void deletesRolloutOutcomesPastTheWindowOrTheTenantsShorterRetention() throws Exception {
    UUID strict = createTenant(db, "strict");
    UUID lenient = createTenant(db, "lenient");
    exec(db, strict, "UPDATE tenant_settings SET retention_days = 30");
    outcomes(strict, RetentionJob.BATCH + 3, 40, 1); // past the tenant's 30 days: more than one batch
    outcomes(strict, 2, 20, 2);
    outcomes(lenient, 4, 70, 3); // past the 60-day window (the tenant keeps 365 days)
    outcomes(lenient, 5, 50, 4);
    RetentionJob job = new RetentionJob(db, new AuditLog(db), 60);

    // one tenant's purge never reaches another's rows
    assertThat(await(job.purgeOutcomes(strict))).isEqualTo(RetentionJob.BATCH + 3);
    assertThat(count("SELECT count(*) FROM rollout_outcomes WHERE tenant_id = ?", lenient)).isEqualTo(9);

    await(job.runOnce());
    assertThat(count("SELECT count(*) FROM rollout_outcomes WHERE total_ms IN (1, 3)")).isZero();
    assertThat(count("SELECT count(*) FROM rollout_outcomes WHERE tenant_id = ? AND total_ms = 2", strict)).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM rollout_outcomes WHERE tenant_id = ? AND total_ms = 4", lenient)).isEqualTo(5);
    assertThat(count("SELECT count(*) FROM audit_log WHERE action = 'retention.purged'")).as("timings only: no audit").isZero();
  }

  @Test
  void verticleRunsTheJobOnItsTimer(Vertx vertx) throws Exception {
    UUID tenant = createTenant(db, "timer");
    exec(db, tenant, "UPDATE tenant_settings SET retention_days = 1");
    conversations(tenant, 1, 2, "stale");
    await(vertx.deployVerticle(new RetentionVerticle(db, Duration.ofHours(1), Duration.ofMillis(10), 90)));
    until("the timer deleted the stale conversations", Duration.ofSeconds(30),
        () -> count("SELECT count(*) FROM conversations WHERE tenant_id = ?", tenant) == 0);
    assertThat(count("SELECT count(*) FROM conversations WHERE tenant_id = ?", tenant)).isZero();
  }
}
