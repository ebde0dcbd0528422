package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.StreamInbox;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.policy.moderation.TenantModeration;
import ai.deepchat.policy.moderation.WordMatcher;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * Not a test: CPU time and bytes allocated per model delta on the pipeline's side of the event loop, from
 * {@link AnswerStream#modelDelta} (guards, the tenant's moderator, log-probability queue, the event, the
 * outbox) through the flush to a local inbox and the edge's stream handler (which only counts here), one
 * delta per task as each upstream read is on a quiet machine (#25). Thread CPU and allocation counters of
 * the event loop, so firm-ish under load. Run: docs/performance.md, tenth session, helper "token".
 */
public class DeltaPathMicrobench {
  static long sink;

  public static void main(String[] a) throws Exception {
    Vertx vertx = Vertx.vertx();
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    String[] words = {" the", " shop", " opens", " at", " nine", ",", " closes", " at", " six", "."};
    for (String list : new String[] {"-", "", "damn,darn"}) {
      boolean harness = list.equals("-"); // the loop of tasks alone, no delta: what the figures above include
      TenantModeration policy = new TenantModeration(list.isEmpty() || harness ? WordMatcher.EMPTY : WordMatcher.of(List.of(list.split(","))),
          false, TenantModeration.DEFAULT_BLOCKED_REPLY);
      for (int round = 0; round < 10; round++) {
        int n = 200_000;
        Promise<long[]> done = Promise.promise();
        String turnId = "turn-" + list + round;
        vertx.runOnContext(v -> {
          StreamInbox<TurnEvent> inbox = StreamInbox.current(vertx, ChatMessages.TURN_STREAM);
          inbox.register(turnId, e -> sink += e.content() == null ? 0 : e.content().length() + e.seq());
          AnswerStream answer = new AnswerStream(vertx, turnId, inbox.address(), 10_000);
          answer.moderateWith(policy);
          long tid = Thread.currentThread().getId();
          long[] start = {mx.getCurrentThreadCpuTime(), mx.getThreadAllocatedBytes(tid)};
          step(vertx, harness ? null : answer, words, 0, n, () -> done.complete(new long[] {
              mx.getCurrentThreadCpuTime() - start[0], mx.getThreadAllocatedBytes(tid) - start[1]}));
        });
        long[] r = done.future().toCompletionStage().toCompletableFuture().get();
        System.out.printf("word list %-10s round %d: %.0f ns, %.0f bytes per delta (event-loop thread CPU time, allocated)%n",
            harness ? "(no delta)" : list.isEmpty() ? "(none)" : list, round, r[0] / (double) n, r[1] / (double) n);
      }
    }
    System.out.println(sink);
    vertx.close();
  }

  /** One delta per task, as one upstream read each: the outbox's flush task runs between them. */
  private static void step(Vertx vertx, AnswerStream answer, String[] words, int i, int n, Runnable end) {
    if (i == n) {
      end.run();
      return;
    }
    if (answer != null) {
      answer.modelDelta(words[i % words.length], null, null);
    }
    vertx.getOrCreateContext().runOnContext(v -> step(vertx, answer, words, i + 1, n, end));
  }
}
