package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
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
import io.vertx.core.parsetools.RecordParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Any OpenAI-compatible chat completions endpoint (DeepSeek's API among them), always streamed so the
 * first token reaches the user as soon as it exists. Uses the core HTTP client rather than the web
 * client because the answer is an open-ended SSE stream that must be parsed line by line and cut
 * (connection reset) the moment the user leaves. No tools are offered to the model; tool calls it
 * proposes anyway are dropped (logged, counted), never run and never shown.
 */
public final class OpenAiHttpBackend implements ModelBackend {

  private static final int MAX_ERROR_BODY = 300;
  private static final Logger LOG = LoggerFactory.getLogger(OpenAiHttpBackend.class);

  private final Vertx vertx;
  private final HttpClient client;
  private final BackendSpec spec;
  private final long requestTimeoutMs;
  private final long idleTimeoutMs;

  public OpenAiHttpBackend(Vertx vertx, HttpClient client, BackendSpec spec, long requestTimeoutMs,
                           long idleTimeoutMs) {
    this.vertx = vertx;
    this.client = client;
    this.spec = spec;
    this.requestTimeoutMs = requestTimeoutMs;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, GenerationListener listener) {
    Run run = new Run(listener, requestId);
    JsonArray msgs = new JsonArray();
    for (ChatMessage m : messages) {
      msgs.add(new JsonObject().put("role", m.role()).put("content", m.content()));
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
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setAbsoluteURI(spec.target() + "/chat/completions")
        .setConnectTimeout(requestTimeoutMs)
        .putHeader("Content-Type", "application/json")
        .putHeader("Accept", "text/event-stream")
        .putHeader("X-Request-Id", requestId);
    if (spec.apiKey() != null && !spec.apiKey().isBlank()) {
      options.putHeader("Authorization", "Bearer " + spec.apiKey());
    }
    run.armIdle(requestTimeoutMs);
    client.request(options)
        .compose(req -> {
          run.request = req;
          if (run.finished) {
            req.reset();
          }
          return req.send(body.toBuffer());
        })
        .onSuccess(run::onResponse)
        .onFailure(err -> run.fail("backend_unavailable", "cannot reach " + spec.describe() + ": " + err.getMessage()));
    return run;
  }

  private final class Run implements GenerationListener.Generation {
    private final GenerationListener listener;
    private final String requestId;
    private HttpClientRequest request;
    private boolean toolCallSeen;
    private long idleTimer = -1;
    private boolean finished;
    private String finishReason;
    private Usage usage;

    Run(GenerationListener listener, String requestId) {
      this.listener = listener;
      this.requestId = requestId;
    }

    void onResponse(HttpClientResponse response) {
      if (finished) {
        return;
      }
      armIdle(idleTimeoutMs);
      if (response.statusCode() != 200) {
        response.body().onComplete(ar -> {
          String text = ar.succeeded() ? ar.result().toString(StandardCharsets.UTF_8) : "";
          fail(response.statusCode() == 429 || response.statusCode() >= 500 ? "backend_unavailable" : "backend_error",
              spec.describe() + " answered HTTP " + response.statusCode() + ": "
                  + text.substring(0, Math.min(text.length(), MAX_ERROR_BODY)));
        });
        return;
      }
      RecordParser lines = RecordParser.newDelimited("\n", this::onLine);
      lines.maxRecordSize(4 << 20);
      response.handler(lines);
      response.exceptionHandler(err -> fail("backend_error", "stream from " + spec.describe() + " broke: "
          + err.getMessage()));
      response.endHandler(v -> {
        if (!finished) {
          if (finishReason != null) {
            done();
          } else {
            fail("backend_error", spec.describe() + " closed the stream before it finished");
          }
        }
      });
    }

    private void onLine(Buffer raw) {
      if (finished) {
        return;
      }
      armIdle(idleTimeoutMs);
      String line = raw.toString(StandardCharsets.UTF_8).strip();
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
        fail("backend_error", spec.describe() + " sent a malformed chunk");
        return;
      }
      if (chunk.getValue("error") instanceof JsonObject err) {
        fail("backend_error", spec.describe() + ": " + err.getString("message", "error"));
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
      if (delta.getValue("tool_calls") != null || delta.getValue("function_call") != null) {
        // no tools are offered, so none is run: a tool call the model makes up (an instruction planted in
        // a document, say) is dropped here, and only the tenant's enabled plugins ever run
        toolCallsDropped();
      }
      String content = delta.getString("content");
      String reasoning = delta.getString("reasoning_content");
      if ((content != null && !content.isEmpty()) || (reasoning != null && !reasoning.isEmpty())) {
        listener.onDelta(content, reasoning);
      }
      if (choice.getString("finish_reason") != null) {
        finishReason = choice.getString("finish_reason");
      }
    }

    private void toolCallsDropped() {
      if (!toolCallSeen) {
        toolCallSeen = true;
        LOG.warn("request {}: {} proposed a tool call; none is offered, so it was dropped", requestId, spec.describe());
        PolicyMetrics.toolCallDropped();
      }
    }

    void armIdle(long ms) {
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
      }
      idleTimer = vertx.setTimer(ms, t -> {
        if (!finished) {
          fail("backend_timeout", spec.describe() + " sent nothing for " + ms + " ms");
        }
      });
    }

    private void done() {
      stop(false);
      listener.onDone(finishReason == null ? "stop" : finishReason, usage);
    }

    void fail(String code, String message) {
      if (finished) {
        return;
      }
      stop(true);
      listener.onError(code, message);
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
}
