package ai.deepchat.platform.bus;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;

/**
 * Sends streamed events batched: events for a {@link StreamInbox} are held per address and go out as
 * one bus message per address at {@link #flush}, in the order they were sent. Events for any other
 * address (a per-stream consumer, as older nodes and tests use) go out at once, one by one.
 *
 * <p>{@link #current} is the outbox of the current context, flushed when the context's current task
 * ends (and by an inbox right after each batch it delivers), so a handler that passes on events while
 * handling a batch sends one message per destination. {@link #manual} is for a thread that is not a
 * Vert.x context (the engine's scheduler): its owner flushes it after each round of events.
 * An inbox of this JVM gets its batch without the bus ({@link StreamInbox#deliverLocally}).
 */
public final class StreamOutbox {

  private static final String CONTEXT_KEY = "deepchat.outbox";

  private final EventBus bus;
  private final Context context; // null: the owner flushes
  /**
   * The events held for one inbox address, their kind (which packs them into a batch), and where each
   * stream's last held event is when it was sent joined (what a later joined send may join). Used again
   * once flushed (a batch is packed into a copy): one flush per upstream read made these three objects
   * and their arrays anew every time (#25).
   */
  private static final class Pending {
    StreamKind<?, ?> kind;
    final List<Object> events = new ArrayList<>();
    final Map<String, Integer> lastOfStream = new HashMap<>();
  }

  private static final int MAX_SPARE = 8;

  private final Map<String, Pending> pending = new LinkedHashMap<>();
  private final ArrayDeque<Pending> spare = new ArrayDeque<>();
  private boolean flushScheduled;

  private StreamOutbox(EventBus bus, Context context) {
    this.bus = bus;
    this.context = context;
  }

  /** The outbox of the current context; null off any context (callers then send directly). */
  public static StreamOutbox current(Vertx vertx) {
    Context ctx = Vertx.currentContext();
    if (ctx == null) {
      return null;
    }
    StreamOutbox outbox = ctx.get(CONTEXT_KEY);
    if (outbox == null) {
      outbox = new StreamOutbox(vertx.eventBus(), ctx);
      ctx.put(CONTEXT_KEY, outbox); // context data is shared by a context's duplicates
    }
    return outbox;
  }

  /** An outbox its owner flushes; safe to use from any thread. */
  public static StreamOutbox manual(EventBus bus) {
    return new StreamOutbox(bus, null);
  }

  /** Sends {@code event} of {@code kind} to {@code address}, or the current context's outbox if any. */
  public static <E> void send(Vertx vertx, StreamKind<E, ?> kind, String address, E event) {
    StreamOutbox outbox = current(vertx);
    if (outbox == null) {
      sendNow(vertx.eventBus(), address, event);
    } else {
      outbox.send(kind, address, event);
    }
  }

  /**
   * As {@link #send(Vertx, StreamKind, String, Object)}, but {@code event} is joined with its stream's
   * last held event, if that was sent joined too, where {@code join} gives one event for both (null: kept
   * apart), so what one task produced for a stream travels and is written as one event.
   */
  public static <E> void sendJoined(Vertx vertx, StreamKind<E, ?> kind, String address, E event, BinaryOperator<E> join) {
    StreamOutbox outbox = current(vertx);
    if (outbox == null) {
      sendNow(vertx.eventBus(), address, event);
    } else {
      outbox.hold(kind, address, event, join);
    }
  }

  /**
   * Runs {@code work} (an inbox delivering one batch) on the current context and flushes what it sent
   * right after it, instead of in a task queued for the purpose. Not for reads of a socket: there the
   * queued flush runs after every read of the event loop's round, and what the round's reads gave one
   * stream leaves joined. Off any context {@code work} just runs.
   */
  public static void flushAfter(Vertx vertx, Runnable work) {
    StreamOutbox outbox = current(vertx);
    if (outbox == null) {
      work.run();
      return;
    }
    synchronized (outbox) {
      outbox.flushScheduled = true; // no flush task queued for what the work sends: the flush below is its
    }
    try {
      work.run();
    } finally {
      outbox.flush(); // all that is held, as an inbox always flushed after a batch
    }
  }

  /** Holds {@code event} for the next flush if {@code address} is an inbox, else sends it now. */
  public <E> void send(StreamKind<E, ?> kind, String address, E event) {
    hold(kind, address, event, null);
  }

  /**
   * As {@link #sendJoined(Vertx, StreamKind, String, Object, BinaryOperator)}, on this outbox. True when
   * {@code event} was joined into its stream's held event (a sender numbering its events gives the next
   * one the number this one had).
   */
  public <E> boolean sendJoined(StreamKind<E, ?> kind, String address, E event, BinaryOperator<E> join) {
    return hold(kind, address, event, join);
  }

  /** True when {@code event} was joined with a held one. */
  @SuppressWarnings("unchecked")
  private synchronized <E> boolean hold(StreamKind<E, ?> kind, String address, E event, BinaryOperator<E> join) {
    if (!kind.isInbox(address)) {
      bus.send(address, event);
      return false;
    }
    Pending held = pending.get(address);
    if (held == null) {
      held = spare.isEmpty() ? new Pending() : spare.pop();
      held.kind = kind;
      pending.put(address, held);
    }
    String stream = kind.key().apply(event);
    Integer last = held.lastOfStream.get(stream);
    E joined = join == null || last == null ? null : join.apply((E) held.events.get(last), event);
    if (joined != null) {
      held.events.set(last, joined);
    } else {
      if (join != null) {
        held.lastOfStream.put(stream, held.events.size());
      } else {
        held.lastOfStream.remove(stream); // an event sent plainly stays apart: nothing later joins it
      }
      held.events.add(event);
    }
    if (context != null && !flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> flush());
    }
    return joined != null;
  }

  /** Sends what is held: one message per address. */
  public void flush() {
    List<Map.Entry<String, Pending>> out;
    synchronized (this) {
      flushScheduled = false;
      if (pending.isEmpty()) {
        return;
      }
      // taken out first: a local inbox runs its handlers within this call, and they may send again
      out = new ArrayList<>(pending.entrySet());
      pending.clear();
    }
    for (Map.Entry<String, Pending> e : out) {
      Pending held = e.getValue();
      Object batch = pack(held.kind, held.events); // a copy: the held lists can be used again
      recycle(held);
      sendNow(bus, e.getKey(), batch);
    }
  }

  private synchronized void recycle(Pending held) {
    held.kind = null;
    held.events.clear();
    held.lastOfStream.clear();
    if (spare.size() < MAX_SPARE) {
      spare.push(held);
    }
  }

  /** To an inbox of this JVM and Vert.x instance directly, else over the bus. */
  private static void sendNow(EventBus bus, String address, Object body) {
    if (!StreamInbox.deliverLocally(bus, address, body)) {
      bus.send(address, body);
    }
  }

  @SuppressWarnings("unchecked")
  private static <E> Object pack(StreamKind<E, ?> kind, List<Object> events) {
    return kind.pack().apply((List<E>) events);
  }
}
