package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import io.vertx.core.Future;
import ai.deepchat.policy.PolicyMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Any OpenAI-compatible chat completions endpoint (DeepSeek's API among them), always streamed so the
 * first token reaches the user as soon as it exists. Uses the core HTTP client rather than the web
 * client because the answer is an open-ended SSE stream that must be parsed line by line and cut
 * (connection reset) the moment the user leaves. The caller's tools, tool choice and tool messages
 * pass through; the endpoint's tool calls come back as call pieces, but only calls to a tool the
 * caller offered: any other call the model proposes (an instruction planted in a document, say) is
 * dropped (logged, counted), never run and never shown.
 *
 * <p>The endpoint is a tenant's URL: every request goes through the {@link OutboundPolicy} (looked up
 * once, every answer checked, connected to the checked address, no redirects), and the caller only
 * ever gets a generic error: what the endpoint said, and whether it could be reached at all, go to the
 * log, so the backend cannot be used to read or probe what the node can reach.
 */
public final class OpenAiHttpBackend implements ModelBackend {

  private static final Logger LOG = LoggerFactory.getLogger(OpenAiHttpBackend.class);
  private static final int MAX_ERROR_BODY = 2048;
  private static final int MAX_WHOLE_BODY = 4 << 20;
  static final int MAX_LINE = 4 << 20;
  static final String UNAVAILABLE = "The model backend is not available.";
  static final String FAILED = "The model backend failed.";

  private final Vertx vertx;
  private final HttpClient client;
  private final OutboundPolicy outbound;
  private final BackendSpec spec;
  private final long requestTimeoutMs;
  private final long idleTimeoutMs;

  public OpenAiHttpBackend(Vertx vertx, HttpClient client, OutboundPolicy outbound, BackendSpec spec,
                           long requestTimeoutMs, long idleTimeoutMs) {
    this.vertx = vertx;
    this.client = client;
    this.outbound = outbound;
    this.spec = spec;
    this.requestTimeoutMs = requestTimeoutMs;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, GenerationListener listener) {
    return start(requestId, tenantId, messages, sampling, null, listener);
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, List<ToolSpec> tools,
                                             GenerationListener listener) {
    Run run = new Run(listener, requestId, tools);
    JsonArray msgs = new JsonArray();
    for (ChatMessage m : messages) {
      msgs.add(RemoteTools.message(m));
    }
    JsonObject body = new JsonObject()
        .put("model", spec.remoteModel())
        .put("messages", msgs)
        .put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true))
        .put("max_tokens", sampling.maxTokens())
        .put("temperature", sampling.temperature())
        .put("top_p", sampling.topP());
    if (sampling.stop() != null && !sampling.stop().isEmpty()) {
      body.put("stop", new JsonArray(sampling.stop()));
    }
    RemoteTools.offer(body, tools, sampling.constraint());
    if (sampling.logprobs()) {
      body.put("logprobs", true).put("top_logprobs", sampling.topLogprobs());
    }
    JsonObject format = responseFormat(sampling.constraint());
    if (format != null) {
      body.put("response_format", format);
    }
    run.armIdle(requestTimeoutMs);
    outbound.resolve(vertx, spec.target() + "/chat/completions")
        .compose(target -> {
          if (run.finished) {
            return Future.failedFuture("cancelled before connecting");
          }
          RequestOptions options = target.requestOptions(HttpMethod.POST)
              .setConnectTimeout(requestTimeoutMs)
              .putHeader("Content-Type", "application/json")
              .putHeader("Accept", "text/event-stream")
              .putHeader("X-Request-Id", requestId);
          if (spec.apiKey() != null && !spec.apiKey().isBlank()) {
            options.putHeader("Authorization", "Bearer " + spec.apiKey());
          }
          return client.request(options);
        })
        .compose(req -> {
          run.request = req;
          if (run.finished) {
            req.reset();
          }
          return req.send(body.toBuffer());
        })
        .onSuccess(run::onResponse)
        .onFailure(err -> {
          if (err instanceof OutboundRefusedException) {
            LOG.warn("request {}: {} refused by the outbound policy: {}", requestId, spec.describe(), err.getMessage());
          } else if (!run.finished) {
            LOG.warn("request {}: cannot reach {}: {}", requestId, spec.describe(), err.toString());
          }
          run.fail(BusFailure.BACKEND_UNAVAILABLE, UNAVAILABLE);
        });
    return run;
  }

  private static String clip(String s) {
    String oneLine = s.replaceAll("[\\r\\n]+", " ");
    return oneLine.length() > MAX_ERROR_BODY ? oneLine.substring(0, MAX_ERROR_BODY) + "…" : oneLine;
  }

  private final class Run implements GenerationListener.Generation {
    private final GenerationListener listener;
    private final String requestId;
    private final RemoteTools.Calls calls;
    private final StreamedLine.Reader lineReader = new StreamedLine.Reader();
    private HttpClientRequest request;
    private boolean toolCallSeen;
    private long idleTimer = -1;
    private long idleTimerAt; // System.nanoTime() when the pending idle check fires
    private long idleDeadline; // System.nanoTime() by which the backend must have sent something
    private long idleMs;
    private boolean finished;
    private String finishReason;
    private Usage usage;

    Run(GenerationListener listener, String requestId, List<ToolSpec> tools) {
      this.listener = listener;
      this.requestId = requestId;
      this.calls = new RemoteTools.Calls(tools);
    }

    void onResponse(HttpClientResponse response) {
      if (finished) {
        return;
      }
      armIdle(idleTimeoutMs);
      if (response.statusCode() != 200) {
        refuseAnswer(response);
        return;
      }
      String type = response.getHeader("Content-Type");
      if (type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
        wholeAnswer(response); // an endpoint that ignores "stream": one chat.completion object
        return;
      }
      SseLines lines = new SseLines(MAX_LINE, this::onLine);
      // what the lines of a read produce is flushed by the context's outbox once the event loop has
      // handled all the reads ready in its round (a task queued at the first one): the reads of one
      // round that carry tokens of one turn leave as one delta, one write to its client (#25)
      response.handler(chunk -> {
        if (!finished && !lines.accept(chunk)) {
          LOG.warn("request {}: {} sent a line over {} bytes", requestId, spec.describe(), MAX_LINE);
          fail(BusFailure.BACKEND_ERROR, FAILED);
        }
      });
      response.exceptionHandler(err -> {
        LOG.warn("request {}: stream from {} broke: {}", requestId, spec.describe(), err.toString());
        fail(BusFailure.BACKEND_ERROR, FAILED);
      });
      response.endHandler(v -> {
        if (!finished) {
          if (finishReason != null) {
            done();
          } else {
            LOG.warn("request {}: {} closed the stream before it finished", requestId, spec.describe());
            fail(BusFailure.BACKEND_ERROR, FAILED);
          }
        }
      });
    }

    private void onLine(byte[] b, int from, int to) {
      if (finished) {
        return;
      }
      armIdle(idleTimeoutMs);
      StreamedLine.Read read = lineReader.read(b, from, to);
      if (read != null) {
        onRead(read); // the common line (a text delta): no JSON tree per token
      } else {
        readTree(new String(b, from, to - from, StandardCharsets.UTF_8).strip());
      }
    }

    private void onRead(StreamedLine.Read read) {
      switch (read.kind()) {
        case SKIP -> { }
        case DONE -> done();
        case TEXT -> {
          String content = read.content();
          String reasoning = read.reasoning();
          if ((content != null && !content.isEmpty()) || (reasoning != null && !reasoning.isEmpty())) {
            listener.onDelta(content, reasoning, null, null);
          }
          if (read.finishReason() != null) {
            finishReason = read.finishReason();
          }
        }
      }
    }

    /** Any line, read through a JSON tree: tool calls, log-probabilities, usage, errors, the unusual. */
    private void readTree(String line) {
      if (!line.startsWith("data:")) {
        return; // comments (": keep-alive"), event names, blank separators
      }
      String data = line.substring(5).strip();
      if (data.equals("[DONE]")) {
        done();
        return;
      }
      JsonObject chunk;
      try {
        chunk = new JsonObject(data);
      } catch (DecodeException e) {
        LOG.warn("request {}: {} sent a malformed chunk", requestId, spec.describe());
        fail(BusFailure.BACKEND_ERROR, FAILED);
        return;
      }
      if (chunk.getValue("error") instanceof JsonObject err) {
        LOG.warn("request {}: {} sent an error: {}", requestId, spec.describe(), clip(err.encode()));
        fail(BusFailure.BACKEND_ERROR, FAILED);
        return;
      }
      JsonObject u = chunk.getJsonObject("usage");
      if (u != null) {
        usage = new Usage(u.getInteger("prompt_tokens", 0), u.getInteger("completion_tokens", 0));
      }
      JsonArray choices = chunk.getJsonArray("choices");
      if (choices == null || choices.isEmpty()) {
        return;
      }
      JsonObject choice = choices.getJsonObject(0);
      JsonObject delta = choice.getJsonObject("delta", new JsonObject());
      // only calls to a tool the caller offered pass: one the model makes up (an instruction planted in a
      // document, say) is dropped here, and only the tenant's enabled plugins ever run
      List<ToolCallDelta> pieces = calls.accept(delta.getValue("tool_calls"));
      if (calls.dropped() || delta.getValue("function_call") != null) {
        toolCallsDropped();
      }
      String content = delta.getString("content");
      // DeepSeek's API and older vLLM say reasoning_content, newer vLLM says reasoning
      String reasoning = delta.getString("reasoning_content", delta.getString("reasoning"));
      List<TokenLogprob> logprobs = RemoteLogprobs.of(choice.getValue("logprobs") instanceof JsonObject lp ? lp : null);
      if ((content != null && !content.isEmpty()) || (reasoning != null && !reasoning.isEmpty())) {
        listener.onDelta(content, reasoning, null, logprobs.isEmpty() ? null : logprobs);
      }
      if (!pieces.isEmpty()) {
        listener.onToolCalls(pieces);
      }
      if (choice.getString("finish_reason") != null) {
        finishReason = choice.getString("finish_reason");
      }
    }

    /** A whole chat.completion (at most as large as one streamed line may be), taken as one step. */
    private void wholeAnswer(HttpClientResponse response) {
      Buffer body = Buffer.buffer();
      response.handler(chunk -> {
        if (body.length() + chunk.length() > MAX_WHOLE_BODY) {
          LOG.warn("request {}: {} sent an answer over {} bytes", requestId, spec.describe(), MAX_WHOLE_BODY);
          fail(BusFailure.BACKEND_ERROR, FAILED);
        } else {
          body.appendBuffer(chunk);
        }
      });
      response.exceptionHandler(err -> fail(BusFailure.BACKEND_ERROR, FAILED));
      response.endHandler(v -> {
        if (finished) {
          return;
        }
        JsonObject answer;
        try {
          answer = new JsonObject(body);
        } catch (DecodeException | ClassCastException e) {
          LOG.warn("request {}: {} sent a malformed answer", requestId, spec.describe());
          fail(BusFailure.BACKEND_ERROR, FAILED);
          return;
        }
        JsonArray choices = answer.getValue("choices") instanceof JsonArray c ? c : new JsonArray();
        JsonObject choice = choices.isEmpty() || !(choices.getValue(0) instanceof JsonObject c0) ? new JsonObject() : c0;
        JsonObject message = choice.getValue("message") instanceof JsonObject m ? m : new JsonObject();
        // the same step a streamed chunk is, with the whole message as its delta
        readTree("data: " + new JsonObject().put("choices", new JsonArray().add(new JsonObject()
            .put("delta", message).put("finish_reason", choice.getValue("finish_reason"))))
            .put("usage", answer.getValue("usage")).put("error", answer.getValue("error")).encode());
        if (!finished) {
          done();
        }
      });
    }

    /**
     * Logs what the endpoint answered instead of 200 (its first {@value #MAX_ERROR_BODY} bytes), then
     * fails with the generic error: the caller never sees the status or the body.
     */
    private void refuseAnswer(HttpClientResponse response) {
      Buffer text = Buffer.buffer();
      Runnable end = () -> {
        if (finished) {
          return;
        }
        LOG.warn("request {}: {} answered HTTP {}: {}", requestId, spec.describe(), response.statusCode(),
            clip(text.toString(StandardCharsets.UTF_8)));
        fail(BusFailure.BACKEND_UNAVAILABLE, UNAVAILABLE);
      };
      response.handler(chunk -> {
        text.appendBuffer(chunk.slice(0, Math.min(chunk.length(), MAX_ERROR_BODY - text.length())));
        if (text.length() >= MAX_ERROR_BODY) {
          end.run();
        }
      });
      response.exceptionHandler(err -> end.run());
      response.endHandler(v -> end.run());
    }

    private void toolCallsDropped() {
      if (!toolCallSeen) {
        toolCallSeen = true;
        LOG.warn("request {}: {} proposed a call to a tool the caller did not offer; dropped", requestId,
            spec.describe());
        PolicyMetrics.toolCallDropped();
      }
    }

    /**
     * The backend must send something within {@code ms} from now. Called for every streamed line, so it
     * only moves a deadline; the one pending timer checks it when it fires and waits out the rest (a
     * timer cancelled and set again per token cost more than the token's own relay).
     */
    void armIdle(long ms) {
      long now = System.nanoTime();
      idleMs = ms;
      idleDeadline = now + TimeUnit.MILLISECONDS.toNanos(ms);
      if (idleTimer >= 0 && idleTimerAt - idleDeadline > 0) {
        vertx.cancelTimer(idleTimer); // a shorter limit than the pending check: check sooner
        idleTimer = -1;
      }
      if (idleTimer < 0) {
        checkIdleIn(idleDeadline - now);
      }
    }

    private void checkIdleIn(long nanos) {
      idleTimerAt = System.nanoTime() + nanos;
      idleTimer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)), t -> {
        idleTimer = -1;
        if (finished) {
          return;
        }
        long left = idleDeadline - System.nanoTime();
        if (left > 0) {
          checkIdleIn(left);
          return;
        }
        LOG.warn("request {}: {} sent nothing for {} ms", requestId, spec.describe(), idleMs);
        fail(BusFailure.BACKEND_TIMEOUT, "The model backend did not answer in time.");
      });
    }

    private void done() {
      stop(false);
      String reason = finishReason == null ? "stop" : finishReason;
      // calls that were dropped were never shown: the answer simply ended
      listener.onDone("tool_calls".equals(reason) && calls.none() ? "stop" : reason, usage);
    }

    void fail(BusFailure failure, String message) {
      if (finished) {
        return;
      }
      stop(true);
      listener.onError(failure.apiCode(), message);
    }

    @Override
    public void cancel() {
      if (!finished) {
        stop(true);
      }
    }

    /** Ends the run; an unfinished exchange is reset, which on HTTP/1.1 closes the connection. */
    private void stop(boolean reset) {
      finished = true;
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
      }
      if (reset && request != null) {
        request.reset();
      }
    }
  }

  /** The caller's response_format, passed through: the remote server enforces it. */
  private static JsonObject responseFormat(EngineMessages.OutputConstraint c) {
    if (c == null || c.kind() == EngineMessages.OutputConstraint.Kind.TOOL_CALLS) {
      return null;
    }
    if (c.kind() == EngineMessages.OutputConstraint.Kind.JSON_OBJECT) {
      return new JsonObject().put("type", "json_object");
    }
    return new JsonObject().put("type", "json_schema").put("json_schema", new JsonObject()
        .put("name", "response").put("strict", true).put("schema", new JsonObject(c.schemaJson())));
  }
}
