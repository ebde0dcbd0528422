package ai.deepchat.rag.web;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RobotsRulesTest {

  private static RobotsRules parse(String text) {
    return RobotsRules.parse(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void theLongestMatchWinsAndAllowWinsATie() {
    RobotsRules rules = parse("""
        User-agent: *
        Disallow: /private
        Allow: /private/public
        Disallow: /*.pdf$
        Allow: /same
        Disallow: /same
        """);
    assertThat(rules.allows("/")).isTrue();
    assertThat(rules.allows("/private/x")).isFalse();
    assertThat(rules.allows("/private/public/page")).isTrue();
    assertThat(rules.allows("/docs/manual.pdf")).isFalse();
    assertThat(rules.allows("/docs/manual.pdf?x=1")).isTrue();
    assertThat(rules.allows("/same")).isTrue();
  }

  @Test
  void ourGroupOverridesTheStarGroupAndGroupsShareRules() {
    RobotsRules rules = parse("""
        # comments and blank lines are ignored

        User-agent: *
        Disallow: /

        User-agent: other
        User-agent: DeepChatBot
        Disallow: /admin  # trailing comment
        Crawl-delay: 2.5
        Sitemap: https://example.test/site-map.xml
        """);
    assertThat(rules.allows("/docs")).isTrue();
    assertThat(rules.allows("/admin/users")).isFalse();
    assertThat(rules.crawlDelay()).isEqualTo(Duration.ofMillis(2_500));
    assertThat(rules.sitemaps()).containsExactly("https://example.test/site-map.xml");
  }

  @Test
  void anEmptyDisallowAllowsAndAHugeDelayIsCapped() {
    RobotsRules rules = parse("User-agent: *\nDisallow:\nCrawl-delay: 3600\n");
    assertThat(rules.allows("/anything")).isTrue();
    assertThat(rules.crawlDelay()).isEqualTo(Duration.ofSeconds(10));
    assertThat(RobotsRules.disallowAll().allows("/")).isFalse();
  }

  @Test
  void wildcardsCostLinearTimeOnHostilePatterns() {
    String path = "/" + "a".repeat(2_000) + "b";
    long start = System.nanoTime();
    assertThat(RobotsRules.matches("/*a*a*a*a*a*a*a*a*a*a*a*a*c", path)).isFalse();
    assertThat(RobotsRules.matches("/*a*b$", path)).isTrue();
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(2).toNanos());
  }
}
