package ai.deepchat.policy;

import ai.deepchat.policy.moderation.StreamingModerator;
import ai.deepchat.policy.moderation.TenantModeration;
import ai.deepchat.policy.moderation.WordMatcher;
import ai.deepchat.policy.privacy.PiiMasker;
import ai.deepchat.policy.ratelimit.LocalRateLimiter;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Throughput of the policy hot paths on one thread (run with bench/policy, not a test): input
 * moderation and streamed-output moderation against a 10,000-word list, PII masking, and local
 * rate-limit takes. Prints one line per measurement.
 */
public final class PolicyBench {

  private PolicyBench() {
  }

  public static void main(String[] args) {
    int words = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    Random random = new Random(42);
    List<String> list = new ArrayList<>();
    for (int i = 0; i < words; i++) {
      list.add(i % 2 == 0 ? cjk(random, 2 + random.nextInt(3)) : latin(random, 4 + random.nextInt(6)));
    }
    long t0 = System.nanoTime();
    WordMatcher matcher = WordMatcher.of(list);
    System.out.printf("build automaton: %d words in %.1f ms%n", matcher.size(), (System.nanoTime() - t0) / 1e6);

    StringBuilder sb = new StringBuilder();
    while (sb.length() < 2000) {
      sb.append(random.nextBoolean() ? cjk(random, 8) : latin(random, 6)).append(random.nextInt(10) == 0 ? list.get(random.nextInt(words)) : "").append(' ');
    }
    String text = sb.toString();
    TenantModeration mask = new TenantModeration(matcher, false, "");

    double inputSeconds = time(() -> mask.checkInput(text), 3000);
    System.out.printf("input check (2,000 chars): %.0f messages/s, %.1f MB/s of UTF-16%n",
        1 / inputSeconds, text.length() * 2 / inputSeconds / 1e6);

    double streamSeconds = time(() -> {
      StreamingModerator m = mask.outputModerator();
      for (int i = 0; i < text.length(); i += 8) {
        m.accept(text.substring(i, Math.min(text.length(), i + 8)));
      }
      m.finish();
    }, 1000);
    System.out.printf("streamed output (8-char chunks): %.0f chunks/s%n", (text.length() / 8.0) / streamSeconds);

    String pii = "我是张三，手机13912345678，邮箱 zs@qq.com，卡号 4111 1111 1111 1111，地址北京市海淀区。".repeat(10);
    double piiSeconds = time(() -> PiiMasker.mask(pii), 3000);
    System.out.printf("PII masking (%d chars): %.0f messages/s%n", pii.length(), 1 / piiSeconds);

    LocalRateLimiter limiter = new LocalRateLimiter(Clock.systemUTC(), 100_000);
    int[] n = {0};
    double takeSeconds = time(() -> limiter.acquire("v:" + (n[0]++ % 50_000), 60), 2_000_000);
    System.out.printf("local rate-limit take (50,000 keys): %.2f M/s%n", 1 / takeSeconds / 1e6);
  }

  /** Seconds per call, after a warm-up of the same length. */
  private static double time(Runnable r, int iterations) {
    for (int i = 0; i < iterations; i++) {
      r.run();
    }
    long start = System.nanoTime();
    for (int i = 0; i < iterations; i++) {
      r.run();
    }
    return (System.nanoTime() - start) / 1e9 / iterations;
  }

  private static String cjk(Random r, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append((char) (0x4e00 + r.nextInt(3000)));
    }
    return s.toString();
  }

  private static String latin(Random r, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append((char) ('a' + r.nextInt(26)));
    }
    return s.toString();
  }
}
