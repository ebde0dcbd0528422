package ai.deepchat.platform.cluster;

import java.util.List;

/** Messages of the cluster's own diagnostics. */
public final class ClusterMessages {

  private ClusterMessages() {
  }

  public static final List<Class<? extends Record>> TYPES = List.of(ReachReport.class);

  /**
   * What one node's reach check found: requests that got a reply (a refusal counts: a live consumer
   * read it) and the errors of those that did not (no consumer known, or no reply in time: a stale
   * subscription or an unreachable node).
   */
  public record ReachReport(String nodeId, String address, int replied, List<String> errors) {
  }
}
