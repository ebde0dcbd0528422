package ai.deepchat.policy.audit;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.platform.policy.PolicyMessages.AuditReceipt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The hash chain against the real database: tampering by the owner role is found at the right row. */
@ExtendWith(VertxExtension.class)
class AuditLogTest {

  static TestDatabase testDb;
  static Database db;
  static AuditLog log;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    Codecs.registerAll(vertx);
    testDb = TestDatabase.fresh(vertx);
    db = testDb.database();
    log = new AuditLog(db);
  }

  private static List<AuditReceipt> appendSome(UUID tenant, int n) throws Exception {
    List<AuditReceipt> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(await(log.append(new AuditEntry(tenant.toString(), "user:admin", "api_key.created", "key-" + i,
          "203.0.113." + i, Map.of("name", "key " + i, "scopes", List.of("chat"), "n", i, "nested", Map.of("b", 2, "a", 1.5))))));
    }
    return out;
  }

  @Test
  void aFreshChainVerifiesAndStartsAtGenesis() throws Exception {
    UUID tenant = createTenant(db, "chain-ok");
    List<AuditReceipt> rows = appendSome(tenant, 5);
    AuditLog.Verification v = await(log.verify(tenant));
    assertThat(v.intact()).isTrue();
    assertThat(v.rowsChecked()).isEqualTo(5);
    try (Connection c = testDb.ownerJdbc();
         PreparedStatement st = c.prepareStatement("SELECT prev_hash, hash FROM audit_log WHERE tenant_id = ? ORDER BY id")) {
      st.setObject(1, tenant);
      ResultSet rs = st.executeQuery();
      rs.next();
      assertThat(rs.getString(1)).isEqualTo(AuditLog.GENESIS);
      assertThat(rs.getString(2)).isEqualTo(rows.get(0).hash());
    }
    assertThat(await(log.verify(createTenant(db, "chain-empty")))).isEqualTo(new AuditLog.Verification(true, 0, null, null));
  }

  @Test
  void aRowChangedByTheOwnerIsReportedAtItsId() throws Exception {
    UUID tenant = createTenant(db, "chain-edit");
    List<AuditReceipt> rows = appendSome(tenant, 6);
    long victim = rows.get(3).id();
    owner("UPDATE audit_log SET details = jsonb_set(details, '{name}', '\"forged\"') WHERE id = ?", victim);
    AuditLog.Verification v = await(log.verify(tenant));
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBrokenId()).isEqualTo(victim);
    assertThat(v.rowsChecked()).isEqualTo(3);
  }

  @Test
  void aRowChangedTogetherWithItsHashBreaksTheNextLink() throws Exception {
    UUID tenant = createTenant(db, "chain-rehash");
    List<AuditReceipt> rows = appendSome(tenant, 4);
    owner("UPDATE audit_log SET actor = 'user:someone-else', hash = repeat('a', 64) WHERE id = ?", rows.get(1).id());
    assertThat(await(log.verify(tenant)).firstBrokenId()).isEqualTo(rows.get(1).id());
  }

  @Test
  void aDeletedRowIsReportedAtTheRowAfterIt() throws Exception {
    UUID tenant = createTenant(db, "chain-delete");
    List<AuditReceipt> rows = appendSome(tenant, 5);
    owner("DELETE FROM audit_log WHERE id = ?", rows.get(2).id());
    AuditLog.Verification v = await(log.verify(tenant));
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBrokenId()).isEqualTo(rows.get(3).id());
    assertThat(v.problem()).contains("prev_hash");
  }

  @Test
  void tenantsHaveSeparateChains() throws Exception {
    UUID a = createTenant(db, "chain-a");
    UUID b = createTenant(db, "chain-b");
    appendSome(a, 2);
    List<AuditReceipt> bRows = appendSome(b, 2);
    appendSome(a, 2);
    assertThat(await(log.verify(a))).extracting(AuditLog.Verification::intact, AuditLog.Verification::rowsChecked)
        .containsExactly(true, 4L);
    assertThat(await(log.verify(b)).rowsChecked()).isEqualTo(2);
    // moving a row to another tenant breaks both chains
    owner("UPDATE audit_log SET tenant_id = ? WHERE id = ?", a, bRows.get(1).id());
    assertThat(await(log.verify(a)).intact()).isFalse();
  }

  @Test
  void concurrentAppendsForOneTenantKeepOneChain() throws Exception {
    UUID tenant = createTenant(db, "chain-concurrent");
    List<Future<AuditReceipt>> all = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      all.add(log.append(new AuditEntry(tenant.toString(), "apikey:k" + (i % 4), "api_key.used", "chat", null,
          Map.of("i", i))));
    }
    await(Future.all(all));
    AuditLog.Verification v = await(log.verify(tenant));
    assertThat(v.intact()).isTrue();
    assertThat(v.rowsChecked()).isEqualTo(40);
    Set<String> prevs = new HashSet<>();
    try (Connection c = testDb.ownerJdbc();
         PreparedStatement st = c.prepareStatement("SELECT prev_hash FROM audit_log WHERE tenant_id = ?")) {
      st.setObject(1, tenant);
      ResultSet rs = st.executeQuery();
      while (rs.next()) {
        assertThat(prevs.add(rs.getString(1))).as("no two rows share a predecessor (no fork)").isTrue();
      }
    }
  }

  @Test
  void theApplicationRoleCannotChangeOrDeleteRows() throws Exception {
    UUID tenant = createTenant(db, "chain-readonly");
    long id = appendSome(tenant, 1).get(0).id();
    assertThatThrownBy(() -> await(db.inTenant(tenant, c -> c.query("UPDATE audit_log SET actor = 'x' WHERE id = " + id).execute())))
        .hasMessageContaining("permission denied");
    assertThatThrownBy(() -> await(db.inTenant(tenant, c -> c.query("DELETE FROM audit_log WHERE id = " + id).execute())))
        .hasMessageContaining("permission denied");
  }

  @Test
  void invalidEntriesAreRefused() throws Exception {
    UUID tenant = createTenant(db, "chain-invalid");
    assertThatThrownBy(() -> await(log.append(new AuditEntry(tenant.toString(), " ", "x", null, null, null))))
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> await(log.append(new AuditEntry("nope", "a", "b", null, null, null))))
        .hasCauseInstanceOf(IllegalArgumentException.class);
  }

  /**
   * The one audit path (every node appends in process; there is no bus endpoint): a receipt means the
   * row is committed, so another connection (another node's pool) reads it with the receipt's hash.
   */
  @Test
  void anAcknowledgedAppendIsCommitted() throws Exception {
    UUID tenant = createTenant(db, "chain-ack");
    AuditReceipt r = await(log.append(new AuditEntry(tenant.toString(), "user:u1", "data.exported",
        "conversations", "198.51.100.7", Map.of("format", "jsonl"))));
    assertThat(r.id()).isPositive();
    assertThat(r.hash()).hasSize(64);
    try (Connection c = testDb.ownerJdbc();
         PreparedStatement st = c.prepareStatement("SELECT hash FROM audit_log WHERE id = ? AND tenant_id = ?")) {
      st.setLong(1, r.id());
      st.setObject(2, tenant);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo(r.hash());
      }
    }
    assertThat(await(log.verify(tenant)).rowsChecked()).isEqualTo(1);
    assertThatThrownBy(() -> await(log.append(new AuditEntry(tenant.toString(), "", "x", null, null, null))))
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThat(await(log.verify(tenant)).rowsChecked()).isEqualTo(1);
  }

  private static void owner(String sql, Object... params) throws Exception {
    try (Connection c = testDb.ownerJdbc(); PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
  }
}
