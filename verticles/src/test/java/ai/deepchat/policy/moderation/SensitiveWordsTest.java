package ai.deepchat.policy.moderation;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict.Action;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Admin changes to a word list: stored, audited, and seen at once by a service that had it cached. */
@ExtendWith(VertxExtension.class)
class SensitiveWordsTest {

  @Test
  void changesAreAuditedAndReachACachedService(Vertx vertx) throws Exception {
    Codecs.registerAll(vertx);
    Database db = TestDatabase.fresh(vertx).database();
    UUID tenant = createTenant(db, "words");
    AuditLog audit = new AuditLog(db);
    SensitiveWords words = new SensitiveWords(vertx, db, audit);
    ModerationService service = ModerationService.create(vertx, db);
    await(service.ready());
    assertThat(await(service.checkInput(tenant, "free lottery 彩票")).action()).isEqualTo(Action.ALLOW);

    assertThat(await(words.add(tenant, List.of(" lottery ", "彩票", "lottery"), "user:admin", "192.0.2.1"))).isEqualTo(2);
    assertThat(await(words.add(tenant, List.of("lottery"), "user:admin", null))).isZero();
    assertThat(await(words.list(tenant))).containsExactlyInAnyOrder("lottery", "彩票");
    assertThat(eventually(service, tenant, Action.BLOCK)).isEqualTo(Action.BLOCK);

    assertThat(await(words.remove(tenant, List.of("lottery", "彩票"), "user:admin", null))).isEqualTo(2);
    assertThat(eventually(service, tenant, Action.ALLOW)).isEqualTo(Action.ALLOW);

    AuditLog.Verification v = await(audit.verify(tenant));
    assertThat(v.intact()).isTrue();
    assertThat(v.rowsChecked()).isEqualTo(3);
    assertThatThrownBy(() -> await(words.add(tenant, List.of(" "), "user:admin", null)))
        .hasCauseInstanceOf(IllegalArgumentException.class);
    await(service.close());
  }

  private static Action eventually(ModerationService service, UUID tenant, Action wanted) throws Exception {
    until("the check gives " + wanted, Duration.ofSeconds(10),
        () -> await(service.checkInput(tenant, "free lottery 彩票")).action() == wanted);
    return await(service.checkInput(tenant, "free lottery 彩票")).action();
  }
}
