package ai.deepchat.chat;

import ai.deepchat.platform.bus.RecordCodec;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.FaqCandidate;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteScores;
import ai.deepchat.platform.chat.ChatMessages.RouteThresholds;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.chat.TurnTrace;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Chat contracts survive the trip between cluster nodes (the codec's wire form) unchanged. */
class ChatMessagesWireTest {

  @SuppressWarnings("unchecked")
  private static <T extends Record> T roundTrip(T value) {
    RecordCodec<T> codec = new RecordCodec<>((Class<T>) value.getClass());
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, value);
    return codec.decodeFromWire(0, buffer);
  }

  @Test
  void everyChatRecordRoundTrips() {
    List<Record> samples = List.of(
        new TurnRequest("t1", "tenant", ChatMessages.CHANNEL_WIDGET, null, "v_1", "widget:abc",
            List.of(new ChatMessage("user", "你好 <b>")), null, new SamplingParams(0.5, 0.9, 0, 1, 7, 64, List.of("\n\n")),
            "chat.turn.events.t1"),
        new TurnAck("t1", "c", "u", "a", "deepseek-chat", true, false),
        TurnEvent.delta("t1", "Hi", null),
        TurnEvent.delta("t1", "there", null, new EngineStamp(1_700_000_000_000_000L, 1_700_000_000_250_000L)),
        TurnEvent.citations("t1", List.of(new Citation(1, "Guide", "Setup > Linux", "d1"))),
        TurnEvent.done("t1", "knowledge", new Usage(3, 4), "stop"),
        TurnEvent.error("t1", "backend_timeout", "slow"),
        new TurnRequest("t2", "tenant", ChatMessages.CHANNEL_API, null, null, null,
            List.of(new ChatMessage("user", "q")), null, null, "inbox", true),
        TurnEvent.done("t2", "knowledge", new Usage(3, 4), "stop", null, 0.42, new TurnTrace(
            new TurnTrace.Routing("knowledge", 0.42, Map.of("faq", 0.42), null, TurnTrace.FROM_MODEL),
            List.of(new TurnTrace.FaqCandidate("f1", 0.42, false)),
            new TurnTrace.Retrieval("kb", 3, List.of(new TurnTrace.Hit(1, "d1", "Guide", "Setup", 1.5, 0.8, 0.03, true))),
            new TurnTrace.ModelPick("deepseek-chat", null, "default", "the platform's default model", false),
            new TurnTrace.Moderation("mask", List.of("darn"), "none", List.of()), new Usage(3, 4),
            new TurnTrace.Latency(0.5, 1.25, 3, 20, 40, 70),
            new ChatMessages.QueryTranslation("translated", "退货", 12.5, true, null))),
        new ChatMessages.CancelTurn("t1"),
        new ChatMessages.RouteRequest("tenant", "q"),
        new RouteDecision(RouteDecision.KNOWLEDGE, 0.5, null, null, "kb", 9),
        TurnEvent.done("t1", "faq", new Usage(0, 0), "stop", "faq-1", 0.91, null),
        new RouteDecision(RouteDecision.HANDOFF, 0.4, null, null, null, 0,
            List.of(new RetrievedChunk("1", "d", "Guide", "Setup", "text", 0.1, 0.4, 0.03)), "Call us.",
            new RouteScores(0.5, 0.2, 0.4, List.of(new FaqCandidate("faq-1", "How?", 0.5)),
                List.of(new RetrievedChunk("1", "d", "Guide", "Setup", "text", 0.1, 0.4, 0.03)),
                new RouteThresholds(0.68, 0.52, 0.45, 0.7), "nothing answers confidently", 12.5,
                ChatMessages.QueryTranslation.not("failed", 1500, "no translation within 1500 ms"))));
    for (Record r : samples) {
      assertThat(roundTrip(r)).isEqualTo(r);
    }
    assertThat(ChatMessages.TYPES).containsAll(samples.stream().map(Record::getClass).toList());
  }
}
