package ai.deepchat.rag.ingest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class TenantFairQueueTest {

  private final List<String> started = new ArrayList<>();
  private final Map<String, Promise<String>> jobs = new HashMap<>();

  private Future<String> submit(TenantFairQueue queue, UUID tenant, String key, String name) {
    return queue.submit(tenant, key, () -> {
      started.add(name);
      Promise<String> p = Promise.promise();
      jobs.put(name, p);
      return p.future();
    });
  }

  @Test
  void aTenantNeverHoldsEveryWorkerAndTenantsTakeTurns() {
    TenantFairQueue queue = new TenantFairQueue(2);
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    UUID c = UUID.randomUUID();
    submit(queue, a, "a1", "a1");
    submit(queue, a, "a2", "a2");
    submit(queue, a, "a3", "a3");
    assertThat(started).containsExactly("a1"); // the second worker stays free for other tenants
    Future<String> b1 = submit(queue, b, "b1", "b1");
    submit(queue, c, "c1", "c1");
    assertThat(started).containsExactly("a1", "b1");
    jobs.get("b1").complete("done");
    assertThat(b1.result()).isEqualTo("done");
    assertThat(started).containsExactly("a1", "b1", "c1");
    jobs.get("a1").complete("done");
    jobs.get("c1").complete("done");
    assertThat(started).containsExactly("a1", "b1", "c1", "a2");
    assertThat(queue.pending()).isEqualTo(2);
  }

  @Test
  void jobsOfOneDocumentRunInOrderAndFailuresFreeTheWorker() {
    TenantFairQueue queue = new TenantFairQueue(3);
    UUID a = UUID.randomUUID();
    submit(queue, a, "doc", "first");
    submit(queue, a, "doc", "second");
    submit(queue, a, "other", "other");
    assertThat(started).containsExactly("first", "other");
    Future<String> failing = queue.submit(a, "boom", () -> {
      throw new IllegalStateException("broken job");
    });
    jobs.get("other").complete("done");
    assertThat(started).containsExactly("first", "other");
    assertThat(failing.failed()).isTrue();
    jobs.get("first").fail("failed");
    assertThat(started).containsExactly("first", "other", "second");
    assertThat(queue.pending()).isEqualTo(1);
  }
}
