package ai.deepchat.channel.wechat;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * Takes over channel messages whose answer is owed and whose lease ran out (the node answering them
 * died, or a send failed and waits for its retry): every node looks every CHANNEL_SWEEP_INTERVAL_MS; the
 * claim is one conditional UPDATE, so one node wins each message.
 */
final class ChannelSweepVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ChannelSweepVerticle.class);
  private static final int BATCH = 20;

  private final Function<Vertx, ChannelAnswers> answersFactory;
  private final ChannelStore store;
  private final long intervalMs;
  private ChannelAnswers answers;
  private boolean sweeping;

  ChannelSweepVerticle(ChannelStore store, Function<Vertx, ChannelAnswers> answers,
                       long intervalMs) {
    this.store = store;
    this.answersFactory = answers;
    this.intervalMs = intervalMs;
  }

  @Override
  public Future<?> start() {
    answers = answersFactory.apply(vertx);
    vertx.setPeriodic(intervalMs, t -> sweep());
    return Future.succeededFuture();
  }

  /** One pass; the next waits until this one has claimed its batch. */
  Future<Void> sweep() {
    if (sweeping) {
      return Future.succeededFuture();
    }
    sweeping = true;
    return store.due(BATCH)
        .compose(due -> {
          Future<Void> all = Future.succeededFuture();
          for (ChannelStore.Due d : due) {
            all = all.compose(v -> takeOver(d).recover(err -> {
              LOG.warn("channel message {}: take-over failed: {}", d.id(), err.getMessage());
              return Future.succeededFuture();
            }));
          }
          return all;
        })
        .onComplete(x -> sweeping = false);
  }

  private Future<Void> takeOver(ChannelStore.Due d) {
    return store.claim(d).compose(m -> m == null ? Future.succeededFuture()
        : store.channel(m.tenantId(), m.channelId()).compose(ch -> {
          if (ch == null) {
            return Future.succeededFuture();
          }
          LOG.info("channel {}: taking over message {} (attempt {})", ch.id(), m.id(), m.attempts());
          return "answered".equals(m.status()) ? answers.deliver(ch, m, m.answer())
              : answers.answer(ch, m, 0).mapEmpty();
        }));
  }
}
