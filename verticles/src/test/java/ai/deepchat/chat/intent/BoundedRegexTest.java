package ai.deepchat.chat.intent;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

class BoundedRegexTest {

  @Test
  void matchesOrdinaryPatternsCaseInsensitively() {
    assertThat(BoundedRegex.find(BoundedRegex.compile("order\\s*#?\\d+").orElseThrow(), "Where is ORDER #123?")).isTrue();
    assertThat(BoundedRegex.find(BoundedRegex.compile("refund").orElseThrow(), "shipping time")).isFalse();
    assertThat(BoundedRegex.compile("(unclosed")).isEmpty();
  }

  @Test
  void givesUpOnCatastrophicBacktracking() {
    var evil = BoundedRegex.compile("(a+)+$").orElseThrow();
    long start = System.nanoTime();
    assertThat(BoundedRegex.find(evil, "a".repeat(40) + "!")).isFalse();
    // without the budget this input takes minutes; with it, a bounded amount of work
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
  }

  @Test
  void aPatternThatOverflowsTheStackIsSkippedAndLoggedOnceInOneLine() {
    Logger logger = (Logger) LoggerFactory.getLogger(BoundedRegex.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      var recursive = BoundedRegex.compile("(.|\\s)*refund-" + System.nanoTime()).orElseThrow();
      String longMessage = "please ".repeat(30_000);
      for (int i = 0; i < 3; i++) {
        assertThat(BoundedRegex.find(recursive, longMessage)).isFalse();
      }
      assertThat(logs.list).hasSize(1);
      assertThat(logs.list.get(0).getThrowableProxy()).isNull();
      assertThat(logs.list.get(0).getFormattedMessage()).contains("overflowed the stack", "210000-character")
          .doesNotContain("\n");
      // short messages still match
      assertThat(BoundedRegex.find(BoundedRegex.compile("(.|\\s)*refund").orElseThrow(), "a refund")).isTrue();
    } finally {
      logger.detachAppender(logs);
    }
  }

  @Test
  void problemRefusesCatastrophicAndRecursivePatternsOnly() {
    // Java 9+ memoizes the classic (a+)+$; a backreference still makes it exponential
    assertThat(BoundedRegex.problem("(a+)+\\1b")).get().extracting(BoundedRegex.Problem::kind)
        .isEqualTo(BoundedRegex.Problem.Kind.BACKTRACKING);
    assertThat(BoundedRegex.problem("(.|\\s)*refund")).get().extracting(BoundedRegex.Problem::kind)
        .isEqualTo(BoundedRegex.Problem.Kind.RECURSION);
    assertThat(BoundedRegex.problem("(unclosed")).get().extracting(BoundedRegex.Problem::kind)
        .isEqualTo(BoundedRegex.Problem.Kind.SYNTAX);
    for (String fine : new String[] {"order\\s*#?\\d+", "^hours\\b", "refund|return", "退款", ".*invoice.*"}) {
      assertThat(BoundedRegex.problem(fine)).as(fine).isEmpty();
    }
  }
}
