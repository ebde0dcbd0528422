package ai.deepchat.channel.wechat;

import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * Answers a stored channel message through the chat pipeline, as the widget's turns go (word list, FAQ,
 * knowledge base, model version choice, rate limit per channel user, the conversation stored under the
 * channel), then delivers it: passively, in the push's own reply, when the whole answer is ready within
 * the passive budget (FAQ hits are); else the push is acknowledged at once and the answer goes out
 * through the customer-service API (typing status meanwhile, split at WeChat's length limit), from the
 * message's durable row. The node renews its lease on the row every heartbeat while it works; a node
 * that dies leaves the row to another once the lease runs out, and one that finds its lease taken stops
 * generating and sends nothing more. One per event-loop context.
 */
final class ChannelAnswers {

  private static final Logger LOG = LoggerFactory.getLogger(ChannelAnswers.class);
  /** A first piece of answer with no end this soon after it: a streamed model answer, so acknowledge now. */
  private static final long STREAM_GRACE_MS = 100;
  /** Passive replies are one message: longer answers go out in parts. */
  private static final int MAX_PASSIVE_BYTES = WechatApi.MAX_TEXT_BYTES;
  private static final int MAX_ATTEMPTS = 3;
  /** Customer-service messages may be sent this long after the user's last message. */
  private static final Duration REPLY_WINDOW = Duration.ofHours(48);
  static final String RATE_LIMITED = "您发送消息太频繁了，请稍后再试。(Too many messages: please wait a moment.)";
  static final String SORRY = "抱歉，暂时无法回答，请稍后再试。(Sorry, no answer can be given right now.)";

  private final Vertx vertx;
  private final TurnClient turns;
  private final RequestLimits limits;
  private final ChannelStore store;
  private final WechatApi api;
  private final long heartbeatMs;
  /** How long a failed try waits: a few leases, so that an outage of WeChat's API is not hit every sweep. */
  private final int retrySeconds;

  ChannelAnswers(Vertx vertx, TurnClient turns, RequestLimits limits, ChannelStore store, WechatApi api,
                 int leaseSeconds, long heartbeatMs) {
    this.vertx = vertx;
    this.turns = turns;
    this.limits = limits;
    this.store = store;
    this.api = api;
    this.heartbeatMs = heartbeatMs;
    this.retrySeconds = 3 * leaseSeconds;
  }

  /**
   * Answers {@code m} (leased to this node). The future: the text to reply passively (already stored as
   * replied), or null to acknowledge now while the answer follows through the API. {@code passiveBudgetMs}
   * 0: never passive (a message taken over from another node).
   */
  Future<String> answer(ChannelConfig ch, ChannelStore.Message m, long passiveBudgetMs) {
    // while the model writes, the user sees "typing" (a failure to show it changes nothing)
    Passive passive = new Passive(passiveBudgetMs, () -> api.typing(ch, m.openId())
        .onFailure(err -> LOG.debug("channel {}: typing status: {}", ch.id(), err.getMessage())));
    Promise<Void> lost = Promise.promise();
    Future<Void> work = RateLimited.checkVisitor(limits, ch.tenantId(), m.openId())
        .compose(allowed -> picture(ch, m))
        .compose(picture -> store.conversation(ch, m.openId())
            .compose(conversation -> generate(ch, m, conversation, picture, passive, lost.future())))
        .recover(err -> err instanceof RateLimited ? Future.succeededFuture(RATE_LIMITED)
            // WeChat refused the picture, or it is too large or no image: the user is told (the log says why)
            : err instanceof WechatMedia.Refused refused ? Future.succeededFuture(refused.reply)
            : Future.failedFuture(err))
        .compose(text -> finish(ch, m, text, passive), err -> err instanceof ChannelStore.LeaseLost
            ? Future.failedFuture(err) : failed(ch, m, err, passive));
    held(m, work, lost);
    return passive.decided.future();
  }

  /** Sends a stored answer from the first part not yet sent (a message taken over). */
  Future<Void> deliver(ChannelConfig ch, ChannelStore.Message m, String answer) {
    return held(m, send(ch, m, answer), Promise.promise());
  }

  /**
   * Renews the lease on {@code m} every heartbeat until {@code work} ends, so no other node takes a
   * message still in hand; {@code lost} fails once another node holds it (this one was stalled past its lease).
   */
  private Future<Void> held(ChannelStore.Message m, Future<Void> work, Promise<Void> lost) {
    long timer = vertx.setPeriodic(heartbeatMs, t -> store.renew(m).onFailure(err -> {
      if (err instanceof ChannelStore.LeaseLost) {
        lost.tryFail(err);
      }
      LOG.debug("message {}: lease not renewed: {}", m.id(), err.getMessage());
    }));
    return work.onComplete(x -> vertx.cancelTimer(timer)).onFailure(err -> {
      if (err instanceof ChannelStore.LeaseLost) {
        LOG.info("message {}: {}; this node stops", m.id(), err.getMessage());
      } else {
        LOG.warn("message {}: {}", m.id(), err.getMessage());
      }
    });
  }

  private Future<Void> send(ChannelConfig ch, ChannelStore.Message m, String answer) {
    if (m.receivedAt().plus(REPLY_WINDOW).isBefore(OffsetDateTime.now())) {
      return store.failed(m, "WeChat's 48-hour reply window has passed");
    }
    return sendFrom(ch, m, WechatApi.split(answer), m.partsSent());
  }

  private Future<Void> sendFrom(ChannelConfig ch, ChannelStore.Message m, List<String> parts, int next) {
    if (next >= parts.size()) {
      return store.sent(m, parts.size(), true);
    }
    return api.sendText(ch, m.openId(), parts.get(next))
        .recover(err -> {
          LOG.warn("channel {}: sending the answer to message {} failed: {}", ch.id(), m.id(), err.getMessage());
          return (err instanceof WechatApi.WechatError we && we.permanent() ? store.failed(m, err.getMessage())
              : store.retryLater(m, err.getMessage(), retrySeconds)).compose(v -> Future.failedFuture(err));
        })
        .compose(v -> store.sent(m, next + 1, next + 1 == parts.size()))
        .compose(v -> sendFrom(ch, m, parts, next + 1));
  }

  /**
   * The stored picture of a picture message (fetched through media/get and stored on first need; a node
   * taking the message over finds it stored); null for other messages.
   */
  private Future<UUID> picture(ChannelConfig ch, ChannelStore.Message m) {
    if (m.mediaRef() == null) {
      return Future.succeededFuture(null);
    }
    if (m.mediaId() != null) {
      return Future.succeededFuture(m.mediaId());
    }
    return api.media(ch, m.openId(), m.mediaRef())
        .onFailure(err -> LOG.info("channel {}: picture of message {} not stored: {}", ch.id(), m.id(), err.getMessage()))
        .compose(p -> store.picture(m, p));
  }

  /** {@code lost}: fails when another node took the message over; this generation is then abandoned. */
  private Future<String> generate(ChannelConfig ch, ChannelStore.Message m, UUID conversation, UUID picture,
                                  Passive passive, Future<Void> lost) {
    // the idempotency key is the push's: a node taking the message over replays or redoes the same turn
    TurnRequest req = new TurnRequest(UUID.randomUUID().toString(), ch.tenantId().toString(), ch.kind(),
        conversation == null ? null : conversation.toString(), m.openId(),
        ChannelStore.turnKey(m), List.of(new ChatMessage("user", m.question())), null, null, null,
        false, null, picture == null ? null : picture.toString());
    TurnClient.Stream stream = turns.start(req, System.currentTimeMillis() * 1000);
    Promise<String> done = Promise.promise();
    lost.onFailure(err -> {
      stream.cancel();
      done.tryFail(err);
    });
    StringBuilder text = new StringBuilder();
    stream.ack().onFailure(done::tryFail).onSuccess(ack -> stream.handler(event -> {
      switch (event.kind()) {
        case DELTA -> {
          if (event.content() != null && !event.content().isEmpty()) {
            if (text.isEmpty()) {
              passive.streaming();
            }
            text.append(event.content());
          }
        }
        case DONE -> done.tryComplete(text.toString());
        case ERROR -> done.tryFail(new IllegalStateException(event.errorCode() + ": " + event.error()));
        default -> {
        }
      }
    }));
    return done.future();
  }

  private Future<Void> finish(ChannelConfig ch, ChannelStore.Message m, String text, Passive passive) {
    String answer = text.isBlank() ? SORRY : text;
    if (passive.claim() && answer.getBytes(StandardCharsets.UTF_8).length <= MAX_PASSIVE_BYTES) {
      // stored as replied before the reply is written: a retry of this push then gets the same reply
      return store.answered(m, answer, "replied").onComplete(ar -> passive.decided.tryComplete(ar.succeeded() ? answer : null));
    }
    passive.decided.tryComplete(null);
    return store.answered(m, answer, "answered").compose(v -> send(ch, m, answer));
  }

  private Future<Void> failed(ChannelConfig ch, ChannelStore.Message m, Throwable err, Passive passive) {
    passive.decided.tryComplete(null);
    LOG.warn("channel {}: no answer to message {} (attempt {}): {}", ch.id(), m.id(), m.attempts(), err.getMessage());
    // another node still generates this answer (or died doing so: the pipeline frees it after a while)
    boolean inProgress = BusFailure.of(err) == BusFailure.TURN_IN_PROGRESS;
    boolean retry = inProgress || m.attempts() < MAX_ATTEMPTS
        && !(err instanceof BusFailure.Failed f && !f.failure().retryable());
    return retry ? store.retryLater(m, err.getMessage(), retrySeconds)
        : store.answered(m, SORRY, "answered").compose(v -> send(ch, m, SORRY));
  }

  /**
   * Whether the push's reply carries the answer: decided once, by the answer being ready, the budget
   * running out, or a streamed answer starting (then the answer goes out through the API).
   */
  private final class Passive {
    final Promise<String> decided = Promise.promise();
    private final Runnable onAck;
    private boolean open;
    private long timer = -1;

    Passive(long budgetMs, Runnable onAck) {
      this.onAck = onAck;
      open = budgetMs > 0;
      if (open) {
        timer = vertx.setTimer(budgetMs, t -> close());
      } else {
        decided.tryComplete(null);
        onAck.run();
      }
    }

    /** A streamed answer began: unless it ends at once, acknowledge and send it later. */
    void streaming() {
      if (open) {
        vertx.setTimer(STREAM_GRACE_MS, t -> close());
      }
    }

    /** The answer is ready: true when it may still go in the reply (and from now on nothing else decides). */
    boolean claim() {
      boolean was = open;
      open = false;
      vertx.cancelTimer(timer);
      return was;
    }

    private void close() {
      if (open) {
        open = false;
        decided.tryComplete(null);
        onAck.run();
      }
    }
  }
}
