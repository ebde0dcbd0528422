package ai.deepchat.chat.conversation;

import ai.deepchat.chat.dispatch.TokenCounter;
import ai.deepchat.policy.moderation.PromptLeakGuard;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import java.util.function.Function;

/**
 * A turn's prompt with the guards that keep the answer from reciting the tenant's system prompt. Building it
 * counts tokens (the tokenizer is native code), so it runs on the tokenizer pool, or on the calling event loop
 * when every count it needs is remembered and the guard is compiled already (#25): the hop to the pool and back
 * is then saved.
 */
record PreparedPrompt(PromptBuilder.Prompt prompt, PromptLeakGuard content, PromptLeakGuard reasoning) {

  /** {@code build}: the prompt, its tokens counted by the counter it is given. */
  static Future<PreparedPrompt> prepare(String systemPrompt, TokenCounter tokens, WorkerExecutor tokenizer,
                                        Function<TokenCounter, PromptBuilder.Prompt> build) {
    TokenCounter remembered = tokens.remembered();
    PromptLeakGuard compiled = remembered == null ? null : PromptLeakGuard.ifCompiled(systemPrompt);
    if (compiled != null) {
      try {
        return Future.succeededFuture(new PreparedPrompt(build.apply(remembered), compiled,
            PromptLeakGuard.ifCompiled(systemPrompt)));
      } catch (TokenCounter.NotCounted notYet) {
        // a text new to this tenant's counts: on the pool, which counts it
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    return tokenizer.executeBlocking(() -> new PreparedPrompt(build.apply(tokens),
        PromptLeakGuard.forPrompt(systemPrompt), PromptLeakGuard.forPrompt(systemPrompt)), false);
  }
}
