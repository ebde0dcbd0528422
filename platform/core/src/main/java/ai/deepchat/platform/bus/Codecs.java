package ai.deepchat.platform.bus;

import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.canary.CanaryMessages;
import ai.deepchat.platform.cluster.ClusterMessages;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.policy.PolicyMessages;
import ai.deepchat.platform.rag.RagMessages;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;

import java.util.ArrayList;
import java.util.List;

/** Registers the default codec of every message record, once per Vert.x instance. */
public final class Codecs {

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
    return all;
  }

  public static void registerAll(Vertx vertx) {
    EventBus bus = vertx.eventBus();
    for (Class<? extends Record> type : messageTypes()) {
      register(bus, type);
    }
  }

  private static <T extends Record> void register(EventBus bus, Class<T> type) {
    try {
      bus.registerDefaultCodec(type, new RecordCodec<>(type));
    } catch (IllegalStateException alreadyRegistered) {
      // a second deployment in the same Vert.x instance (tests, redeploys): the codec is already there
    }
  }
}
