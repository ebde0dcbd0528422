package ai.deepchat.platform.bus;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One event-bus consumer per event-loop context for the streams of one {@link StreamKind}: senders
 * address the inbox, not each stream, so a batch step of the engine (one token for each of hundreds
 * of streams) costs one bus message per destination instead of one per token. Events are handed to the
 * stream registered under their key, in order; events of streams not (or no longer) registered are
 * dropped, as a per-stream consumer that has been unregistered would. Context-confined: register,
 * unregister and delivery all run on the owning context. After each batch the context's
 * {@link StreamOutbox} is flushed, so what the handlers sent on goes out as one batch too.
 *
 * <p>A sender in the same JVM skips the bus (#25): {@link #deliverLocally} hands a batch to the inbox
 * directly, at once when the sender runs on the inbox's event loop (the write to the client then happens
 * in the task that read the token), else as one task on the inbox's context. The bus consumer stays for
 * senders on other nodes (cluster mode) and those that do not batch.
 */
public final class StreamInbox<E> {

  /** The inboxes of this JVM by address, while their context is open. */
  private static final Map<String, StreamInbox<?>> LOCAL = new ConcurrentHashMap<>();

  private final StreamKind<E, ?> kind;
  private final String address;
  private final ContextInternal context;
  private final EventBus bus;
  private final Map<String, Handler<E>> streams = new HashMap<>();
  private final MessageConsumer<Object> consumer;
  private long deliveries;

  private StreamInbox(Vertx vertx, StreamKind<E, ?> kind, Context context) {
    this.kind = kind;
    this.address = kind.newInboxAddress(UUID.randomUUID().toString());
    this.context = ((ContextInternal) context).unwrap(); // the event loop's context, not a request's duplicate
    this.bus = vertx.eventBus();
    this.consumer = vertx.eventBus().consumer(address, msg -> deliverAndFlush(msg.body()));
    LOCAL.put(address, this);
    // the bus forgets the consumer when the context closes (an undeployed edge); so does the registry
    this.context.addCloseHook(done -> {
      LOCAL.remove(address);
      done.succeed();
    });
  }

  /**
   * The inbox of the current context for {@code kind}, created on first use. Only on a Vert.x context:
   * the streams' handlers run where they were registered.
   */
  public static <E> StreamInbox<E> current(Vertx vertx, StreamKind<E, ?> kind) {
    Context ctx = Vertx.currentContext();
    if (ctx == null) {
      throw new IllegalStateException("a " + kind.name() + " inbox needs a Vert.x context");
    }
    @SuppressWarnings("unchecked")
    StreamInbox<E> inbox = (StreamInbox<E>) ctx.get(contextKey(kind));
    if (inbox == null) {
      inbox = new StreamInbox<>(vertx, kind, ctx);
      ctx.put(contextKey(kind), inbox); // context data is shared by a context's duplicates
    }
    return inbox;
  }

  private static String contextKey(StreamKind<?, ?> kind) {
    return "deepchat.inbox." + kind.name();
  }

  /** The address senders use for every stream of this inbox. */
  public String address() {
    return address;
  }

  /** Completes once the consumer is registered (in a cluster: known to the other nodes). */
  public Future<Void> ready() {
    return consumer.completion();
  }

  /**
   * Hands {@code body} (a batch or a single event) to the inbox at {@code address} if it is in this JVM
   * and on {@code bus}'s Vert.x instance (two nodes in one JVM, as tests run a cluster, still talk over
   * the bus): run now when the caller is on the inbox's event loop (under the inbox's context), else
   * queued on that context. False when the inbox is elsewhere (or gone): the caller sends it over the bus.
   */
  static boolean deliverLocally(EventBus bus, String address, Object body) {
    StreamInbox<?> inbox = LOCAL.get(address);
    if (inbox == null || inbox.bus != bus) {
      return false;
    }
    if (inbox.context.inThread()) {
      inbox.context.emit(body, inbox::deliverAndFlush);
    } else {
      inbox.context.runOnContext(v -> inbox.deliverAndFlush(body));
    }
    return true;
  }

  /** How many batches (bus messages or local hand-overs) this inbox has delivered: what a flush costs. */
  public long deliveries() {
    return deliveries;
  }

  /** Delivers the events of stream {@code key} to {@code handler} from now on. */
  public void register(String key, Handler<E> handler) {
    checkContext();
    streams.put(key, handler);
  }

  public void unregister(String key) {
    checkContext();
    streams.remove(key);
  }

  private void checkContext() {
    Context ctx = Vertx.currentContext();
    if (ctx == null || ctx.get(contextKey(kind)) != this) {
      throw new IllegalStateException("a " + kind.name() + " inbox is used off its own context");
    }
  }

  /** Delivers {@code body}; what the handlers send on leaves as one batch right after it. */
  private void deliverAndFlush(Object body) {
    StreamOutbox.flushAfter(context.owner(), () -> deliver(body));
  }

  private void deliver(Object body) {
    deliveries++;
    if (kind.batchType().isInstance(body)) {
      for (E event : unpack(kind, body)) {
        dispatch(event);
      }
    } else if (kind.eventType().isInstance(body)) {
      dispatch(kind.eventType().cast(body)); // from a sender that does not batch (an older node)
    }
  }

  private static <E, B> List<E> unpack(StreamKind<E, B> kind, Object batch) {
    return kind.unpack().apply(kind.batchType().cast(batch));
  }

  private void dispatch(E event) {
    Handler<E> handler = streams.get(kind.key().apply(event));
    if (handler != null) {
      handler.handle(event);
    }
  }
}
