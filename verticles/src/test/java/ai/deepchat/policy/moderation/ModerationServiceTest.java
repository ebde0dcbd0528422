package ai.deepchat.policy.moderation;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict.Action;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static ai.deepchat.policy.PolicyTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

/** Word lists from the real database, per tenant, with bus invalidation and the bus verticle. */
@ExtendWith(VertxExtension.class)
class ModerationServiceTest {

  static Database db;
  static UUID blocking;
  static UUID masking;
  static UUID clean;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    Codecs.registerAll(vertx);
    db = TestDatabase.fresh(vertx).database();
    blocking = createTenant(db, "blocking");
    masking = createTenant(db, "masking");
    clean = createTenant(db, "clean");
    exec(db, blocking, "UPDATE tenant_settings SET moderation_action = 'block', blocked_reply = $1",
        "抱歉，这个问题我无法回答。");
    exec(db, masking, "UPDATE tenant_settings SET moderation_action = 'mask'");
    for (String w : new String[] {"赌博", "casino"}) {
      exec(db, blocking, "INSERT INTO sensitive_words (tenant_id, word) VALUES ($1, $2)", blocking, w);
      exec(db, masking, "INSERT INTO sensitive_words (tenant_id, word) VALUES ($1, $2)", masking, w);
    }
  }

  @Test
  void blockingTenantGetsItsPoliteReply(Vertx vertx) throws Exception {
    ModerationService service = ModerationService.create(vertx, db);
    ModerationVerdict v = await(service.checkInput(blocking, "哪里可以网上赌博？"));
    assertThat(v.action()).isEqualTo(Action.BLOCK);
    assertThat(v.text()).isEqualTo("抱歉，这个问题我无法回答。");
    assertThat(v.matchedWords()).containsExactly("赌博");
    assertThat(await(service.checkInput(blocking, "How do I reset my password?")).action()).isEqualTo(Action.ALLOW);
    await(service.close());
  }

  @Test
  void maskingTenantGetsTheMessageMasked(Vertx vertx) throws Exception {
    ModerationService service = ModerationService.create(vertx, db);
    ModerationVerdict v = await(service.checkInput(masking, "Best ＣＡＳＩＮＯ in town"));
    assertThat(v.action()).isEqualTo(Action.MASK);
    assertThat(v.text()).isEqualTo("Best ****** in town");
    StreamingModerator stream = await(service.outputModerator(masking));
    String out = stream.accept("Our cas").text() + stream.accept("ino is closed").text() + stream.finish().text();
    assertThat(out).isEqualTo("Our ****** is closed");
    await(service.close());
  }

  @Test
  void oneTenantsWordsNeverApplyToAnother(Vertx vertx) throws Exception {
    ModerationService service = ModerationService.create(vertx, db);
    assertThat(await(service.checkInput(clean, "casino 赌博")).action()).isEqualTo(Action.ALLOW);
    await(service.close());
  }

  @Test
  void publishedChangeDropsTheCachedList(Vertx vertx) throws Exception {
    UUID tenant = createTenant(db, "changing");
    ModerationService service = ModerationService.create(vertx, db);
    await(service.ready());
    assertThat(await(service.checkInput(tenant, "buy lottery tickets")).action()).isEqualTo(Action.ALLOW);
    exec(db, tenant, "INSERT INTO sensitive_words (tenant_id, word) VALUES ($1, 'lottery')", tenant);
    // still cached: the change was not announced yet
    assertThat(await(service.checkInput(tenant, "buy lottery tickets")).action()).isEqualTo(Action.ALLOW);
    ModerationService.publishChanged(vertx, tenant);
    until("the change reached the cache", Duration.ofSeconds(10),
        () -> await(service.checkInput(tenant, "buy lottery tickets")).action() != Action.ALLOW);
    ModerationVerdict after = await(service.checkInput(tenant, "buy lottery tickets"));
    assertThat(after.action()).isEqualTo(Action.BLOCK);
    await(service.close());
  }

  @Test
  void masksInProcess(Vertx vertx) throws Exception {
    // moderation has no bus endpoint: every node's pipeline calls its one service in process
    ModerationService service = ModerationService.create(vertx, db);
    ModerationVerdict v = await(service.checkInput(masking, "赌博 is bad"));
    assertThat(v.action()).isEqualTo(Action.MASK);
    assertThat(v.text()).isEqualTo("** is bad");
    await(service.close());
  }
}
