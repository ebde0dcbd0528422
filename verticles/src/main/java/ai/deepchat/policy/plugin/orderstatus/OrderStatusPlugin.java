package ai.deepchat.policy.plugin.orderstatus;

import ai.deepchat.chat.intent.BoundedRegex;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import ai.deepchat.platform.outbound.OutboundUrl;
import ai.deepchat.policy.plugin.ChatPlugin;
import ai.deepchat.policy.plugin.PluginContext;
import ai.deepchat.policy.plugin.PreResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.Optional;
import java.util.regex.MatchResult;

/**
 * Answers "where is my order 12345678?" from the tenant's own order API: when the message contains an
 * order number, fetches the tenant-configured URL (see {@link OrderStatusConfig}) through the node's
 * {@link OutboundPolicy}, pinned to the checked address, without redirects, with a timeout and a
 * 64 KiB reply limit, and answers with the status field. When the lookup fails the message goes on
 * to the model unchanged (the error is logged, not shown).
 */
public final class OrderStatusPlugin implements ChatPlugin {

  public static final String NAME = "order-status";
  private static final int MAX_BODY = 64 * 1024;
  private static final int MAX_STATUS_CHARS = 200;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OrderStatusPlugin.class);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void validateConfig(JsonObject config) {
    validateConfig(config, OutboundPolicy.strict());
  }

  @Override
  public void validateConfig(JsonObject config, OutboundPolicy outbound) {
    OrderStatusConfig.parse(config, outbound);
  }

  @Override
  public Future<PreResult> preProcess(PluginContext ctx, String userMessage) {
    OrderStatusConfig config;
    try {
      config = OrderStatusConfig.parse(ctx.config(), ctx.outbound());
    } catch (IllegalArgumentException e) {
      LOG.warn("tenant {}: order-status plugin misconfigured: {}", ctx.tenantId(), e.getMessage());
      return Future.succeededFuture(PreResult.proceed(userMessage));
    }
    // the tenant's pattern runs with the routing rules' step budget: a catastrophic one gives up
    Optional<MatchResult> found = BoundedRegex.firstMatch(config.orderPattern(), userMessage);
    if (found.isEmpty()) {
      return Future.succeededFuture(PreResult.proceed(userMessage));
    }
    MatchResult m = found.get();
    String order = m.groupCount() >= 1 && m.group(1) != null ? m.group(1) : m.group();
    return lookup(ctx, config, order)
        .map(answer -> PreResult.answer(userMessage, answer))
        .recover(err -> {
          // some failures carry no message (a closed channel): then the exception's class says what it was
          LOG.warn("tenant {}: order status lookup failed: {}", ctx.tenantId(),
              err.getMessage() != null ? err.getMessage() : err.toString());
          return Future.succeededFuture(PreResult.proceed(userMessage));
        });
  }

  /** Fetches and formats the status of one order; fails on refusal, timeout or a bad reply. */
  Future<String> lookup(PluginContext ctx, OrderStatusConfig config, String order) {
    String url = config.urlTemplate().replace("{order}", URLEncoder.encode(order, StandardCharsets.UTF_8));
    OutboundUrl target;
    try {
      target = config.target(url, ctx.outbound());
    } catch (OutboundRefusedException e) {
      return Future.failedFuture(e);
    }
    return ctx.outbound().resolve(ctx.vertx(), target)
        .compose(pinned -> {
          RequestOptions options = pinned.requestOptions(HttpMethod.GET)
              .setConnectTimeout(config.timeoutMs())
              .setIdleTimeout(config.timeoutMs())
              .putHeader("Accept", "application/json");
          config.headers().forEach(options::putHeader);
          return ctx.httpClient().request(options)
              .compose(req -> req.send())
              .compose(resp -> {
                if (resp.statusCode() == 404) {
                  resp.end();
                  return Future.succeededFuture(format(config.notFoundAnswer(), order, ""));
                }
                if (resp.statusCode() >= 300 && resp.statusCode() < 400) {
                  resp.end();
                  return Future.failedFuture(new OutboundRefusedException(
                      "redirect (" + resp.statusCode() + ") refused"));
                }
                if (resp.statusCode() != 200) {
                  resp.end();
                  return Future.failedFuture("order API answered " + resp.statusCode());
                }
                return limitedBody(resp).map(body -> format(config.answerTemplate(), order,
                    status(body, config.statusField())));
              });
        })
        .timeout(config.timeoutMs(), TimeUnit.MILLISECONDS);
  }

  private static Future<Buffer> limitedBody(io.vertx.core.http.HttpClientResponse resp) {
    Promise<Buffer> promise = Promise.promise();
    Buffer body = Buffer.buffer();
    resp.exceptionHandler(promise::tryFail);
    resp.handler(chunk -> {
      if (body.length() + chunk.length() > MAX_BODY) {
        promise.tryFail("order API reply is larger than " + MAX_BODY + " bytes");
        resp.request().connection().close();
        return;
      }
      body.appendBuffer(chunk);
    });
    resp.endHandler(v -> promise.tryComplete(body));
    return promise.future();
  }

  private static String status(Buffer body, String path) {
    Object value;
    try {
      value = new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalStateException("order API reply is not a JSON object");
    }
    for (String part : path.split("\\.")) {
      if (!(value instanceof JsonObject obj) || !obj.containsKey(part)) {
        throw new IllegalStateException("order API reply has no field " + path);
      }
      value = obj.getValue(part);
    }
    if (value == null || value instanceof JsonObject || value instanceof io.vertx.core.json.JsonArray) {
      throw new IllegalStateException("order API field " + path + " is not a plain value");
    }
    String s = value.toString().strip();
    return s.length() > MAX_STATUS_CHARS ? s.substring(0, MAX_STATUS_CHARS) : s;
  }

  private static String format(String template, String order, String status) {
    return template.replace("{order}", order).replace("{status}", status);
  }
}
