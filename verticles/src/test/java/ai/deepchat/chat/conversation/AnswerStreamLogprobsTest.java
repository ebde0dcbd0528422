package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.policy.moderation.TenantModeration;
import ai.deepchat.policy.moderation.WordMatcher;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Log-probabilities travel with the answer's deltas, and never carry the text the word list masked or
 * stopped: a token's own text would show the word the answer hides.
 */
class AnswerStreamLogprobsTest {

  private Vertx vertx;
  private final List<TurnEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    await(vertx.eventBus().<TurnEvent>consumer("turn-events", m -> events.add(m.body())).completion());
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  private AnswerStream answer(boolean block) {
    AnswerStream a = new AnswerStream(vertx, "t1", "turn-events", 1000);
    a.moderateWith(new TenantModeration(WordMatcher.of(List.of("pineapple")), block, "Sorry."));
    return a;
  }

  private static List<TokenLogprob> lp(String token) {
    return List.of(new TokenLogprob(token, -0.5, List.of(), List.of()));
  }

  private void model(AnswerStream a, String token) {
    a.logprobs(lp(token));
    a.modelDelta(token, null, null);
  }

  private List<String> sentTokens() throws Exception {
    until("the events arrived", Duration.ofSeconds(5), () -> !events.isEmpty());
    Thread.sleep(100);
    return events.stream().filter(e -> e.logprobs() != null).flatMap(e -> e.logprobs().stream())
        .map(TokenLogprob::token).toList();
  }

  @Test
  void cleanTokensArriveWithTheirText() throws Exception {
    AnswerStream a = answer(false);
    for (String t : List.of("The", " lamp", " is", " blue")) {
      model(a, t);
    }
    a.releaseHeldBack();
    a.flushLogprobs();
    assertThat(sentTokens()).containsExactly("The", " lamp", " is", " blue");
  }

  @Test
  void maskedWordsLoseTheirTokens() throws Exception {
    AnswerStream a = answer(false);
    for (String t : List.of("I", " like", " pine", "apple", " cake")) {
      model(a, t);
    }
    a.releaseHeldBack();
    a.flushLogprobs();
    assertThat(a.content()).doesNotContain("pineapple");
    assertThat(sentTokens()).doesNotContain(" pine", "apple");
  }

  @Test
  void aStoppedAnswerSendsNoTokenOfTheBlockedWord() throws Exception {
    AnswerStream a = answer(true);
    model(a, "Eat");
    model(a, " pine");
    model(a, "apple");
    a.logprobs(lp(" now"));
    // the word list sees the word whole once a boundary follows it
    assertThat(a.modelDelta(" now", null, null)).isEqualTo(AnswerStream.Stop.BLOCKED_WORD);
    a.deliver("\n\nSorry.", null, null); // as TurnRunner.refuse ends it
    a.flushLogprobs();
    assertThat(sentTokens()).doesNotContain(" pine", "apple", " now");
  }
}
