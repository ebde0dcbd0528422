package ai.deepchat.rag.web;

/** A running sync's page counts; updated by the pages in flight at once, hence synchronized. */
final class SyncTally {

  private int found;
  private int done;
  private int added;
  private int updated;
  private int unchanged;
  private int removed;
  private int failed;

  synchronized void reached() {
    found++;
  }

  /** One page recorded with {@code status} (added, updated, unchanged, skipped, failed, removed). */
  synchronized void record(String status) {
    done++;
    switch (status) {
      case "added" -> added++;
      case "updated" -> updated++;
      case "unchanged" -> unchanged++;
      case "failed" -> failed++;
      case "removed" -> removed++;
      default -> { }
    }
  }

  /** A page the previous sync had and this one did not reach. */
  synchronized void dropped() {
    removed++;
  }

  synchronized int found() {
    return found;
  }

  synchronized int done() {
    return done;
  }

  synchronized int added() {
    return added;
  }

  synchronized int updated() {
    return updated;
  }

  synchronized int unchanged() {
    return unchanged;
  }

  synchronized int removed() {
    return removed;
  }

  synchronized int failed() {
    return failed;
  }
}
