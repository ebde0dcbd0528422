package ai.deepchat.platform.bus;

/**
 * The receiving end's check of one numbered stream. The event bus delivers at most once between nodes
 * (a connection that drops while a cluster heals loses what it held), so a stream's senders number its
 * events 1, 2, 3 ... and the receiver takes a missing number as a lost part of the stream, not as a
 * shorter answer. Number 0 is an event its sender did not number, accepted as it comes. One per stream,
 * used on the receiver's context only.
 */
public final class StreamOrder {

  private int last;

  /** False when {@code seq} is not the number after the last one seen: something before it was lost. */
  public boolean accept(int seq) {
    if (seq == 0) {
      return true;
    }
    boolean next = seq == last + 1;
    last = seq;
    return next;
  }

  /** The number of the last numbered event seen (0: none yet), for a message saying what was lost. */
  public int last() {
    return last;
  }
}
