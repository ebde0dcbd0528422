package ai.deepchat.chat.intent;

import ai.deepchat.chat.cache.QuestionNormalizer;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.GenerationListener;
import ai.deepchat.chat.dispatch.ModelBackend;
import ai.deepchat.chat.dispatch.ModelDispatcher;
import ai.deepchat.chat.dispatch.WholeAnswer;
import ai.deepchat.platform.chat.ChatMessages.QueryTranslation;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
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
 * tenant by the normalized question, so a question asked again costs no second call. Every call asked
 * of the model is counted in the tenant's usage (query_translation_usage, per day).
 */
final class QueryTranslator {

  private static final Logger LOG = LoggerFactory.getLogger(QueryTranslator.class);
  static final Duration TIMEOUT = Duration.ofMillis(1_500);
  static final int MAX_TOKENS = 96;
  static final int MAX_QUESTION_CHARS = 500;
  private static final int CACHE_ENTRIES = 10_000;
  private static final Duration CACHE_TTL = Duration.ofHours(6);

  record Key(UUID tenantId, String question) {
  }

  private final Vertx vertx;
  private final Database database;
  private final ModelDispatcher models;
  private final Backends backends;
  private final Cache<Key, String> cache;

  /** {@code cache}: the node's translations ({@link #newCache()}), shared by every router instance of the node. */
  QueryTranslator(Vertx vertx, Database database, ModelDispatcher models, Backends backends, Cache<Key, String> cache) {
    this.vertx = vertx;
    this.database = database;
    this.models = models;
    this.backends = backends;
    this.cache = cache;
  }

  /** Translations by tenant and normalized question, bounded and expiring. */
  static Cache<Key, String> newCache() {
    return Caffeine.newBuilder().maximumSize(CACHE_ENTRIES).expireAfterWrite(CACHE_TTL).build();
  }

  /**
   * What translating the question into the other language gave: the translation, or why there is none (no
   * real model, an empty or long question, a failure or the timeout), with the time it took. Never fails.
   */
  Future<QueryTranslation> translate(UUID tenantId, String question) {
    long started = System.nanoTime();
    String normalized = QuestionNormalizer.normalize(question);
    if (normalized.isEmpty() || question.length() > MAX_QUESTION_CHARS) {
      return Future.succeededFuture(QueryTranslation.not(QueryTranslation.SKIPPED, 0,
          normalized.isEmpty() ? "empty question" : "longer than " + MAX_QUESTION_CHARS + " characters"));
    }
    Key key = new Key(tenantId, normalized);
    String cached = cache.getIfPresent(key);
    if (cached != null) {
      return Future.succeededFuture(new QueryTranslation(QueryTranslation.TRANSLATED, cached, millis(started), true,
          null));
    }
    return models.choose(tenantId, null, null).compose(choice -> {
      if (choice.testModel()) {
        return Future.succeededFuture(QueryTranslation.not(QueryTranslation.TEST_MODEL, millis(started),
            "the bundled test model does not translate"));
      }
      return ask(tenantId, backends.forChoice(choice), question).map(translation -> {
        if (translation == null) {
          return QueryTranslation.not(QueryTranslation.FAILED, millis(started), "the model's reply was empty or cut");
        }
        cache.put(key, translation);
        return new QueryTranslation(QueryTranslation.TRANSLATED, translation, millis(started), false, null);
      });
    }).recover(failure -> {
      LOG.debug("query translation unavailable for tenant {}: {}", tenantId, failure.getMessage());
      return Future.succeededFuture(QueryTranslation.not(QueryTranslation.FAILED, millis(started),
          failure.getMessage()));
    });
  }

  private static double millis(long since) {
    return ((System.nanoTime() - since) / 1_000L) / 1_000.0;
  }

  private Future<String> ask(UUID tenantId, ModelBackend backend, String question) {
    boolean chinese = question.codePoints().anyMatch(cp -> Character.UnicodeScript.of(cp) == Character.UnicodeScript.HAN);
    List<ChatMessage> messages = List.of(
        new ChatMessage("system", "Translate the user's message into " + (chinese ? "English" : "Simplified Chinese")
            + ". Reply with the translation only: no quotes, no notes, no answer to the message."),
        new ChatMessage("user", question));
    Promise<String> result = Promise.promise();
    long started = System.nanoTime();
    GenerationListener.Generation generation = backend.start("translate-" + UUID.randomUUID(), tenantId.toString(),
        messages, SamplingParams.greedy(MAX_TOKENS), new WholeAnswer() {
          @Override
          protected void onAnswer(String answer, String finishReason, Usage usage) {
            if (result.future().isComplete()) {
              return; // given up already, and counted then
            }
            // a translation cut by max_tokens is no translation of the whole question
            String out = answer.strip();
            boolean none = out.isEmpty() || "length".equals(finishReason);
            count(tenantId, usage, started, none);
            result.tryComplete(none ? null : out);
          }

          @Override
          public void onError(String code, String message) {
            if (result.tryFail(code + ": " + message)) {
              count(tenantId, null, started, true);
            }
          }
        });
    long timer = vertx.setTimer(TIMEOUT.toMillis(), t -> {
      generation.cancel();
      if (result.tryFail("no translation within " + TIMEOUT.toMillis() + " ms")) {
        count(tenantId, null, started, true);
      }
    });
    return result.future().onComplete(done -> vertx.cancelTimer(timer));
  }

  /**
   * One call asked of the tenant's model, in its usage of the day (query_translation_usage), with the
   * tokens the model reported (none when it failed or was given up), how long it took and whether it
   * gave no translation ({@code none}), which the console shows beside the switch. A lost count is
   * logged, never fails the question's search.
   */
  private void count(UUID tenantId, Usage usage, long started, boolean none) {
    int prompt = usage == null ? 0 : usage.promptTokens();
    int completion = usage == null ? 0 : usage.completionTokens();
    long ms = Math.round(millis(started));
    database.inTenant(tenantId, c -> c.preparedQuery("INSERT INTO query_translation_usage AS u "
                + "(tenant_id, day, calls, prompt_tokens, completion_tokens, failed, total_ms) "
                + "VALUES ($1, current_date, 1, $2, $3, $4, $5) "
                + "ON CONFLICT (tenant_id, day) DO UPDATE SET calls = u.calls + 1, "
                + "prompt_tokens = u.prompt_tokens + $2, completion_tokens = u.completion_tokens + $3, "
                + "failed = u.failed + $4, total_ms = u.total_ms + $5")
            .execute(Tuple.of(tenantId, (long) prompt, (long) completion, none ? 1 : 0, ms)))
        .onFailure(err -> LOG.warn("query translation usage of tenant {} not counted: {}", tenantId, err.toString()));
  }
}
