package ai.deepchat.rag;

import java.util.List;

/**
 * One page of a listing in a stable order; {@code hasMore} when more items follow the last one (the
 * next page starts after its id).
 */
public record Page<T>(List<T> items, boolean hasMore) {

  /** The most items one page may hold. */
  public static final int MAX_LIMIT = 100;
  public static final int DEFAULT_LIMIT = 20;

  public Page {
    items = List.copyOf(items);
  }
}
