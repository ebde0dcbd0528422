package ai.deepchat.platform.bus;

import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.canary.CanaryMessages;
import ai.deepchat.platform.cluster.ClusterMessages;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.handoff.HandoffMessages;
import ai.deepchat.platform.policy.PolicyMessages;
import ai.deepchat.platform.rag.RagMessages;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/** Registers the default codec of every message record, once per Vert.x instance. */
public final class Codecs {

  /** Vert.x instances whose codecs are registered; weak, so a closed instance is forgotten. */
  private static final Set<Vertx> REGISTERED = Collections.newSetFromMap(new WeakHashMap<>());

  private Codecs() {
  }

  /** Every record type that travels on the bus, gathered from each feature's contracts. */
  public static List<Class<? extends Record>> messageTypes() {
    List<Class<? extends Record>> all = new ArrayList<>();
    all.addAll(EngineMessages.TYPES);
    all.addAll(RagMessages.TYPES);
    all.addAll(ChatMessages.TYPES);
    all.addAll(PolicyMessages.TYPES);
    all.addAll(CanaryMessages.TYPES);
    all.addAll(ClusterMessages.TYPES);
    all.addAll(HandoffMessages.TYPES);
    return all;
  }

  /**
   * Registers every record codec on {@code vertx}; a second call for the same instance (tests that
   * share one) does nothing. Called once by whoever creates the Vert.x instance (the launcher, a test),
   * never by a verticle.
   */
  public static void registerAll(Vertx vertx) {
    synchronized (REGISTERED) {
      if (!REGISTERED.add(vertx)) {
        return;
      }
    }
    EventBus bus = vertx.eventBus();
    for (Class<? extends Record> type : messageTypes()) {
      register(bus, type);
    }
  }

  private static <T extends Record> void register(EventBus bus, Class<T> type) {
    bus.registerDefaultCodec(type, new RecordCodec<>(type));
  }
}
