package ai.deepchat.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Errors by code, counted from many client threads at once. */
final class ErrorTally {

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  void add(String code) {
    counts.computeIfAbsent(code, k -> new LongAdder()).increment();
  }

  long total() {
    return counts.values().stream().mapToLong(LongAdder::sum).sum();
  }

  Map<String, Long> byCode() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
