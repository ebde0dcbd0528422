package ai.deepchat.chat.intent;

import ai.deepchat.chat.cache.QuestionNormalizer;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.GenerationListener;
import ai.deepchat.chat.dispatch.ModelBackend;
import ai.deepchat.chat.dispatch.ModelDispatcher;
import ai.deepchat.chat.dispatch.WholeAnswer;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Translates a question into the knowledge base's other language with the tenant's own serving model,
 * for retrieval across languages (issue #15): a tenant turns it on in its settings. Never with the
 * bundled test model (its output means nothing); a short, greedy, bounded call ({@link #MAX_TOKENS}),
 * given up after {@link #TIMEOUT} so the question is then searched untranslated, and cached per
 * tenant by the normalized question, so a question asked again costs no second call.
 */
final class QueryTranslator {

  private static final Logger LOG = LoggerFactory.getLogger(QueryTranslator.class);
  static final Duration TIMEOUT = Duration.ofMillis(1_500);
  static final int MAX_TOKENS = 96;
  static final int MAX_QUESTION_CHARS = 500;
  private static final int CACHE_ENTRIES = 10_000;
  private static final Duration CACHE_TTL = Duration.ofHours(6);

  private record Key(UUID tenantId, String question) {
  }

  private final Vertx vertx;
  private final ModelDispatcher models;
  private final Backends backends;
  private final Cache<Key, String> cache = Caffeine.newBuilder().maximumSize(CACHE_ENTRIES)
      .expireAfterWrite(CACHE_TTL).build();

  QueryTranslator(Vertx vertx, ModelDispatcher models, Backends backends) {
    this.vertx = vertx;
    this.models = models;
    this.backends = backends;
  }

  /**
   * The question in the other language (Chinese for a question in Latin script, English otherwise), or
   * null: no real model, a long question, a failure or the timeout. Never fails.
   */
  Future<String> translate(UUID tenantId, String question) {
    String normalized = QuestionNormalizer.normalize(question);
    if (normalized.isEmpty() || question.length() > MAX_QUESTION_CHARS) {
      return Future.succeededFuture(null);
    }
    Key key = new Key(tenantId, normalized);
    String cached = cache.getIfPresent(key);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    return models.choose(tenantId, null, null).compose(choice -> {
      if (choice.testModel()) {
        return Future.<String>succeededFuture(null);
      }
      return ask(tenantId, backends.forChoice(choice), question).onSuccess(translation -> {
        if (translation != null) {
          cache.put(key, translation);
        }
      });
    }).recover(failure -> {
      LOG.debug("query translation unavailable for tenant {}: {}", tenantId, failure.getMessage());
      return Future.succeededFuture(null);
    });
  }

  private Future<String> ask(UUID tenantId, ModelBackend backend, String question) {
    boolean chinese = question.codePoints().anyMatch(cp -> Character.UnicodeScript.of(cp) == Character.UnicodeScript.HAN);
    List<ChatMessage> messages = List.of(
        new ChatMessage("system", "Translate the user's message into " + (chinese ? "English" : "Simplified Chinese")
            + ". Reply with the translation only: no quotes, no notes, no answer to the message."),
        new ChatMessage("user", question));
    Promise<String> result = Promise.promise();
    GenerationListener.Generation generation = backend.start("translate-" + UUID.randomUUID(), tenantId.toString(),
        messages, SamplingParams.greedy(MAX_TOKENS), new WholeAnswer() {
          @Override
          protected void onAnswer(String answer, String finishReason, Usage usage) {
            // a translation cut by max_tokens is no translation of the whole question
            String out = answer.strip();
            result.tryComplete(out.isEmpty() || "length".equals(finishReason) ? null : out);
          }

          @Override
          public void onError(String code, String message) {
            result.tryFail(code + ": " + message);
          }
        });
    long timer = vertx.setTimer(TIMEOUT.toMillis(), t -> {
      generation.cancel();
      result.tryFail("no translation within " + TIMEOUT.toMillis() + " ms");
    });
    return result.future().onComplete(done -> vertx.cancelTimer(timer));
  }
}
