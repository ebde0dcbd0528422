package ai.deepchat.platform.bus;

/**
 * Every event-bus address of the platform, in one place. Addresses are dotted lowercase nouns; the
 * ones that carry a per-request or per-model suffix are built by the static helpers below.
 */
public final class Addresses {

  private Addresses() {
  }

  /** Prefix of the generation address of one model version, served by engine worker verticles. */
  public static final String ENGINE_GENERATE = "engine.generate";
  /** Cancels a running generation; published, since any worker may hold the request. */
  public static final String ENGINE_CANCEL = "engine.cancel";
  /** Workers publish which model versions they serve, periodically and on start/stop. */
  public static final String ENGINE_ANNOUNCE = "engine.announce";

  /** Retrieval from a tenant's knowledge base (request/reply). */
  public static final String RAG_RETRIEVE = "rag.retrieve";

  /** Starts a chat turn on a conversation verticle (request/reply; the reply acknowledges it). */
  public static final String CHAT_TURN = "chat.turn";
  /**
   * Prefix of the node-local address of the conversation verticle on one event loop (suffix: the
   * loop's thread name; local consumers only): an edge on that loop starts its turns there, so the turn
   * runs on the thread that reads and writes its client's socket (see TurnLoops).
   */
  public static final String CHAT_TURN_ON_LOOP = "chat.turn.loop.";
  /** The client of a turn went away; published, since any pipeline node may run it. */
  public static final String CHAT_TURN_CANCEL = "chat.turn.cancel";
  /** Intent routing of one question (request/reply). */
  public static final String CHAT_ROUTE = "chat.route";
  /**
   * Prefix of the node-local address of the intent router on one event loop (suffix: the loop's thread
   * name; local consumers only): a turn is routed on the thread it runs on (see RouteLoops, #25).
   */
  public static final String CHAT_ROUTE_ON_LOOP = "chat.route.loop.";
  /**
   * A question translated by the tenant's own model as routing would search it (request/reply:
   * TranslateRequest, QueryTranslation); evaluation runs ask it so a tenant measures translation first.
   */
  public static final String CHAT_TRANSLATE = "chat.translate";
  /**
   * A tenant's policy settings changed (word list, moderation action, rate limits, plugin configs);
   * published so every node drops its cached copies.
   */
  public static final String POLICY_CHANGED = "policy.tenant.changed";
  /**
   * A tenant's widget key was rotated or one of its visitors erased: published so every gateway closes
   * the open widget sockets those visitor tokens opened (the tokens themselves are refused by the check
   * against PostgreSQL).
   */
  public static final String WIDGET_VISITORS_REVOKED = "widget.visitors.revoked";

  /**
   * A tenant's (or the platform's) model versions or rollouts changed; published so every node
   * reloads its routing from PostgreSQL.
   */
  public static final String CANARY_CHANGED = "canary.routing.changed";

  /**
   * Human handoff: a frame for one visitor's widget sockets ({@code HandoffMessages.VisitorFrame}),
   * published so the node holding the socket delivers it.
   */
  public static final String HANDOFF_VISITOR = "handoff.visitor";

  /**
   * Human handoff: an event for a tenant's agent inbox streams ({@code HandoffMessages.StaffEvent}),
   * published so every node holding one of the tenant's inbox streams delivers it.
   */
  public static final String HANDOFF_STAFF = "handoff.staff";

  /** Liveness probe used by health checks and cluster tests (request/reply). */
  public static final String PLATFORM_PING = "platform.ping";

  /**
   * One node's reach check (request/reply): the node sends the attached request to the address named
   * in the {@link #REACH_ADDRESS} header, {@link #REACH_COUNT} times, and replies a
   * {@code ClusterMessages.ReachReport}. Tells whether that node, not only the asker, reaches an address's
   * live consumers (after a partition heals, say).
   */
  public static String platformReach(String nodeId) {
    return "platform.reach." + nodeId;
  }

  /** Headers of a reach check: the address to probe, how many requests, the timeout of each (ms). */
  public static final String REACH_ADDRESS = "reach-address";
  public static final String REACH_COUNT = "reach-count";
  public static final String REACH_TIMEOUT_MS = "reach-timeout-ms";

  /** Generation requests for one model version go here. */
  public static String engineGenerate(String modelKey) {
    return ENGINE_GENERATE + "." + modelKey;
  }

  /**
   * An address for the events of one generation alone (one event per message), for callers without a
   * {@code StreamInbox}: tests, and pipelines of older versions during a rolling upgrade.
   */
  public static String generationEvents(String requestId) {
    return "engine.events." + requestId;
  }
}
