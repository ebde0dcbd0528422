package ai.deepchat.chat.cache;

import java.lang.management.ManagementFactory;
import java.text.Normalizer;
import java.util.Locale;

/**
 * Not a test: CPU time of a turn's response-cache key normalization, twice with String.replaceAll (before)
 * against once with the compiled pattern (#25). Run: docs/performance.md, tenth session, helper "turn".
 */
public class QuestionNormalizerMicrobench {
  static long sink;

  static String before(String text) {
    String nfkc = Normalizer.normalize(text, Normalizer.Form.NFKC);
    return nfkc.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT).replaceAll("(?U)\\s+", " ").strip();
  }

  public static void main(String[] a) {
    String q = "What are your opening hours? (question 12345)";
    var mx = ManagementFactory.getThreadMXBean();
    for (int round = 0; round < 6; round++) {
      int n = 500_000;
      long t0 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        sink += before(q).length() + before(q).length();
      }
      long t1 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        sink += QuestionNormalizer.normalize(q).length();
      }
      long t2 = mx.getCurrentThreadCpuTime();
      System.out.printf("round %d: twice with replaceAll %.0f ns, once compiled %.0f ns per turn (CPU time)%n",
          round, (t1 - t0) / (double) n, (t2 - t1) / (double) n);
    }
    System.out.println(sink);
  }
}
