package ai.deepchat.platform.bus;

import java.util.List;
import java.util.function.Function;

/**
 * A kind of streamed event (a generation's tokens, a turn's deltas) that travels batched: many
 * streams' events to one {@link StreamInbox} as one bus message. {@code key} names the stream an event
 * belongs to; {@code pack}/{@code unpack} convert between a list of events and the batch record. {@code pack}
 * copies the list (as {@code List.copyOf} does): the sender's outbox clears and reuses it after packing.
 */
public record StreamKind<E, B>(String name, Class<E> eventType, Class<B> batchType, Function<E, String> key,
                               Function<List<E>, B> pack, Function<B, List<E>> unpack) {

  /** Every inbox address starts with this, so a sender can tell a batching receiver from a per-stream one. */
  public static final String INBOX_PREFIX = "inbox.";

  /** True for an inbox address of this kind: events sent there may be batched. */
  public boolean isInbox(String address) {
    // asked for every event sent: no string built for it
    int end = INBOX_PREFIX.length() + name.length();
    return address.startsWith(INBOX_PREFIX) && address.startsWith(name, INBOX_PREFIX.length())
        && address.length() > end && address.charAt(end) == '.';
  }

  String newInboxAddress(String unique) {
    return INBOX_PREFIX + name + "." + unique;
  }
}
