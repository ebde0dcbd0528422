package ai.deepchat.chat.api;

import ai.deepchat.chat.dispatch.GenerationListener;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.TopLogprob;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.metrics.StreamMetrics;
import ai.deepchat.policy.moderation.StreamingModerator;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;

/**
 * One {@code /v1/completions} response: its n choices' generations, moderated as they stream, sent as
 * SSE chunks or gathered into one {@code text_completion}. Runs on the request's context.
 */
final class TextCompletionRun {

  private final RoutingContext ctx;
  private final HttpServerResponse resp;
  private final TextCompletionRequest request;
  private final JsonObject envelope;
  private final String blockedReply;
  private final List<Choice> choices = new ArrayList<>();
  private int open;
  private boolean ended;

  TextCompletionRun(RoutingContext ctx, TextCompletionRequest request, String id, String model,
                    String blockedReply) {
    this.ctx = ctx;
    this.resp = ctx.response();
    this.request = request;
    this.envelope = TextCompletionsModule.envelope(id, model);
    this.blockedReply = blockedReply;
    if (request.stream()) {
      resp.setChunked(true)
          .putHeader("Content-Type", "text/event-stream; charset=utf-8")
          .putHeader("Cache-Control", "no-cache")
          .putHeader("X-Accel-Buffering", "no");
    }
  }

  /** The listener of choice {@code index}; {@code echo}: text the choice starts with (the prompt, or ""). */
  Choice choice(int index, StreamingModerator moderator, String echo, StreamMetrics metrics) {
    Choice c = new Choice(index, moderator, metrics);
    choices.add(c);
    open++;
    if (!echo.isEmpty()) {
      c.text(echo, List.of());
    }
    return c;
  }

  /** The word list blocked the prompt: every choice is the workspace's reply, no model ran. */
  void refused(String reply) {
    for (int i = 0; i < request.sampling().n(); i++) {
      choice(i, null, "", null);
    }
    for (Choice c : List.copyOf(choices)) { // all open first: the last one done sends the response
      c.text(reply, List.of());
      c.onDone("content_filter", new Usage(0, 0));
    }
  }

  void cancel() {
    ended = true;
    choices.forEach(Choice::cancel);
  }

  private void chunk(JsonObject choice) {
    if (!resp.ended() && !resp.closed()) {
      resp.write("data: " + envelope.copy().put("choices", new JsonArray().add(choice)).encode() + "\n\n");
    }
  }

  private void finished() {
    if (--open > 0 || ended) {
      return;
    }
    ended = true;
    List<Usage> usages = new ArrayList<>();
    for (Choice c : choices) {
      usages.add(c.usage);
    }
    JsonObject usage = TextCompletionsModule.usage(Choices.usage(usages));
    if (request.stream()) {
      if (!resp.ended() && !resp.closed()) {
        resp.write("data: " + envelope.copy().put("choices", new JsonArray()).put("usage", usage).encode() + "\n\n");
        resp.end("data: [DONE]\n\n");
      }
      return;
    }
    JsonArray all = new JsonArray();
    for (Choice c : choices) {
      all.add(new JsonObject().put("index", c.index).put("text", c.text.toString())
          .put("logprobs", request.sampling().logprobs() ? c.logprobs.json() : null)
          .put("finish_reason", c.finishReason));
    }
    resp.putHeader("Content-Type", "application/json; charset=utf-8")
        .end(envelope.copy().put("choices", all).put("usage", usage).encode());
  }

  private void failed(String code, String message) {
    if (ended) {
      return;
    }
    cancel();
    HttpProblem p = ChatApiModule.backendProblem(code, message);
    if (!request.stream()) {
      p.send(ctx);
    } else if (!resp.ended() && !resp.closed()) {
      resp.write("data: " + new JsonObject().put("error", new JsonObject().put("message", p.getMessage())
          .put("type", p.type()).put("code", p.code())).encode() + "\n\n");
      resp.end("data: [DONE]\n\n");
    }
  }

  /** One choice: its text so far, its log-probabilities (legacy shape) and how it ended. */
  final class Choice implements GenerationListener {
    private final int index;
    private final StreamingModerator moderator;
    private final StringBuilder text = new StringBuilder();
    private final LegacyLogprobs logprobs = new LegacyLogprobs();
    // the node's per-tenant stream metrics (tokens, time to first token, outcome), as for chat answers
    private final StreamMetrics metrics;
    private Generation generation;
    private boolean cancelled;
    private boolean stopped;
    private String finishReason;
    private Usage usage;
    private int deltas;

    private Choice(int index, StreamingModerator moderator, StreamMetrics metrics) {
      this.index = index;
      this.moderator = moderator;
      this.metrics = metrics;
    }

    private void metric(StreamMetrics.Outcome outcome) {
      if (metrics != null) {
        metrics.finish(outcome);
      }
    }

    void attach(Generation g) {
      generation = g;
      if (cancelled) {
        g.cancel();
      }
    }

    void cancel() {
      cancelled = true;
      metric(StreamMetrics.Outcome.CANCELLED);
      if (generation != null) {
        generation.cancel();
      }
    }

    @Override
    public void onDelta(String content, String reasoning) {
      onDelta(content, reasoning, null, null);
    }

    @Override
    public void onDelta(String content, String reasoning, EngineStamp stamp, List<TokenLogprob> tokens) {
      if (stopped || ended) {
        return;
      }
      deltas++;
      if (metrics != null) {
        metrics.tokens(1); // a backend delta carries one token
      }
      String piece = (reasoning == null ? "" : reasoning) + (content == null ? "" : content);
      if (moderator == null) {
        text(piece, tokens);
        return;
      }
      StreamingModerator.Output out = moderator.accept(piece);
      // masked or stopped text must not come back through its tokens' texts
      text(out.text(), out.matchedWords().isEmpty() ? tokens : List.of());
      if (out.stopped()) {
        stopped = true;
        metric(StreamMetrics.Outcome.COMPLETE); // answered, with the workspace's reply: not a cancellation
        cancel();
        text("\n\n" + blockedReply, List.of());
        onDone("content_filter", null);
      }
    }

    private void text(String piece, List<TokenLogprob> tokens) {
      int offset = text.length();
      text.append(piece);
      JsonObject lp = tokens == null || tokens.isEmpty() ? null : logprobs.add(tokens, offset);
      if (request.stream() && (!piece.isEmpty() || lp != null)) {
        chunk(new JsonObject().put("index", index).put("text", piece).put("logprobs", lp).putNull("finish_reason"));
      }
    }

    @Override
    public void onDone(String reason, Usage u) {
      if (finishReason != null) {
        return;
      }
      if (moderator != null && !stopped) {
        StreamingModerator.Output rest = moderator.finish();
        text(rest.text(), List.of());
      }
      metric(StreamMetrics.Outcome.COMPLETE);
      finishReason = reason;
      // a choice the word list stopped reports what it generated until then (a delta is a token)
      usage = u == null ? new Usage(0, deltas) : u;
      if (request.stream()) {
        chunk(new JsonObject().put("index", index).put("text", "").putNull("logprobs").put("finish_reason", reason));
      }
      finished();
    }

    @Override
    public void onError(String code, String message) {
      if (finishReason == null) {
        metric(StreamMetrics.Outcome.ERROR);
        failed(code, message);
      }
    }
  }

  /** OpenAI's legacy logprobs: parallel arrays of tokens, their logprobs, top alternatives and text offsets. */
  static final class LegacyLogprobs {
    private final JsonArray tokens = new JsonArray();
    private final JsonArray tokenLogprobs = new JsonArray();
    private final JsonArray top = new JsonArray();
    private final JsonArray offsets = new JsonArray();

    /** Adds {@code more}, the first at {@code offset}; returns them alone in the same shape (a chunk's). */
    JsonObject add(List<TokenLogprob> more, int offset) {
      LegacyLogprobs piece = new LegacyLogprobs();
      int at = offset;
      for (TokenLogprob t : more) {
        JsonObject alternatives = new JsonObject();
        if (t.top() != null) {
          for (TopLogprob alt : t.top()) {
            alternatives.put(alt.token(), alt.logprob());
          }
        }
        for (LegacyLogprobs l : List.of(this, piece)) {
          l.tokens.add(t.token());
          l.tokenLogprobs.add(t.logprob());
          l.top.add(alternatives);
          l.offsets.add(at);
        }
        at += t.token().length();
      }
      return piece.json();
    }

    JsonObject json() {
      return new JsonObject().put("tokens", tokens).put("token_logprobs", tokenLogprobs).put("top_logprobs", top)
          .put("text_offset", offsets);
    }
  }
}
