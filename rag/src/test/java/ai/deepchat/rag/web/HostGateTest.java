package ai.deepchat.rag.web;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HostGateTest {

  @Test
  void aHostGetsAtMostItsPermitsAndWaitersGoInOrder() {
    HostGate gate = new HostGate(2);
    Future<Void> first = gate.acquire("a:80");
    Future<Void> second = gate.acquire("a:80");
    Future<Void> third = gate.acquire("a:80");
    Future<Void> fourth = gate.acquire("a:80");
    Future<Void> otherHost = gate.acquire("b:80");
    assertThat(List.of(first, second, otherHost)).allMatch(Future::succeeded);
    assertThat(third.isComplete()).isFalse();
    assertThat(fourth.isComplete()).isFalse();

    List<String> order = new ArrayList<>();
    third.onSuccess(v -> order.add("third"));
    fourth.onSuccess(v -> order.add("fourth"));
    gate.release("a:80");
    assertThat(order).containsExactly("third");
    gate.release("a:80");
    assertThat(order).containsExactly("third", "fourth");

    gate.release("a:80");
    gate.release("a:80");
    // every permit back: the next two start at once
    assertThat(gate.acquire("a:80").succeeded()).isTrue();
    assertThat(gate.acquire("a:80").succeeded()).isTrue();
    assertThat(gate.acquire("a:80").isComplete()).isFalse();
  }
}
