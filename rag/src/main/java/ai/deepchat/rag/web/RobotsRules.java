package ai.deepchat.rag.web;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rules of one robots.txt (RFC 9309) for our crawler: the group naming {@value #AGENT} if there is
 * one, else the {@code *} group; the longest matching Allow or Disallow wins, Allow on a tie; {@code *}
 * matches any run of characters and a final {@code $} anchors the end. No robots.txt library is in our
 * dependency set and the format is small, so it is parsed here. A missing robots.txt allows everything.
 */
public final class RobotsRules {

  /** The product token sites may address in robots.txt; also sent in our User-Agent. */
  public static final String AGENT = "DeepChatBot";
  /** RFC 9309 lets a crawler stop reading after 500 KiB. */
  public static final int MAX_BYTES = 500 * 1024;
  private static final int MAX_PATTERN = 512;
  private static final int MAX_RULES = 1_000;
  private static final int MAX_SITEMAPS = 10;
  private static final Duration MAX_DELAY = Duration.ofSeconds(10);

  private record Rule(String pattern, boolean allow) {
  }

  private final List<Rule> rules;
  private final Duration crawlDelay;
  private final List<String> sitemaps;

  private RobotsRules(List<Rule> rules, Duration crawlDelay, List<String> sitemaps) {
    this.rules = rules;
    this.crawlDelay = crawlDelay;
    this.sitemaps = sitemaps;
  }

  public static RobotsRules allowAll() {
    return new RobotsRules(List.of(), Duration.ZERO, List.of());
  }

  /** Everything refused: what a site answering robots.txt with a server error gets (RFC 9309 2.3.1.4). */
  public static RobotsRules disallowAll() {
    return new RobotsRules(List.of(new Rule("/", false)), Duration.ZERO, List.of());
  }

  public static RobotsRules parse(byte[] body) {
    String text = new String(body, 0, Math.min(body.length, MAX_BYTES), StandardCharsets.UTF_8);
    List<Rule> ours = null;
    List<Rule> any = null;
    Duration ourDelay = null;
    Duration anyDelay = null;
    // the group being read: which agents it names, and whether its rules have started
    boolean forUs = false;
    boolean forAny = false;
    boolean inRules = false;
    List<Rule> current = new ArrayList<>();
    Duration currentDelay = null;
    List<String> sitemaps = new ArrayList<>();
    for (String raw : text.split("\r\n|\r|\n")) {
      int hash = raw.indexOf('#');
      String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String key = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).strip();
      if (key.equals("sitemap")) { // not part of any group
        if (!value.isEmpty() && sitemaps.size() < MAX_SITEMAPS) {
          sitemaps.add(value);
        }
      } else if (key.equals("user-agent")) {
        if (inRules) { // a new group starts
          if (forUs) {
            ours = merge(ours, current);
            ourDelay = ourDelay == null ? currentDelay : ourDelay;
          }
          if (forAny) {
            any = merge(any, current);
            anyDelay = anyDelay == null ? currentDelay : anyDelay;
          }
          current = new ArrayList<>();
          currentDelay = null;
          forUs = false;
          forAny = false;
          inRules = false;
        }
        String agent = value.toLowerCase(Locale.ROOT);
        forUs |= agent.equals(AGENT.toLowerCase(Locale.ROOT));
        forAny |= agent.equals("*");
      } else if (key.equals("allow") || key.equals("disallow")) {
        inRules = true;
        if (!value.isEmpty() && value.length() <= MAX_PATTERN && current.size() < MAX_RULES) {
          current.add(new Rule(value, key.equals("allow")));
        }
      } else if (key.equals("crawl-delay")) {
        inRules = true;
        try {
          double seconds = Double.parseDouble(value);
          if (seconds >= 0) {
            currentDelay = Duration.ofMillis((long) Math.min(seconds * 1000, MAX_DELAY.toMillis()));
          }
        } catch (NumberFormatException ignored) {
          // a malformed delay is ignored, as crawlers do
        }
      }
    }
    if (forUs) {
      ours = merge(ours, current);
      ourDelay = ourDelay == null ? currentDelay : ourDelay;
    }
    if (forAny) {
      any = merge(any, current);
      anyDelay = anyDelay == null ? currentDelay : anyDelay;
    }
    List<Rule> chosen = ours != null ? ours : any != null ? any : List.of();
    Duration delay = ours != null ? ourDelay : anyDelay;
    return new RobotsRules(List.copyOf(chosen), delay == null ? Duration.ZERO : delay, List.copyOf(sitemaps));
  }

  private static List<Rule> merge(List<Rule> into, List<Rule> group) {
    List<Rule> all = into == null ? new ArrayList<>() : into;
    all.addAll(group);
    return all;
  }

  /** Whether the path (with its query) may be fetched. */
  public boolean allows(String pathAndQuery) {
    int best = -1;
    boolean allowed = true;
    for (Rule rule : rules) {
      if (matches(rule.pattern(), pathAndQuery)) {
        int length = rule.pattern().length();
        if (length > best || length == best && rule.allow()) {
          best = length;
          allowed = rule.allow();
        }
      }
    }
    return allowed;
  }

  /** The sitemaps robots.txt lists ({@code Sitemap:} lines), as written. */
  public List<String> sitemaps() {
    return sitemaps;
  }

  /** The site's Crawl-delay for us, at most ten seconds; zero when it sets none. */
  public Duration crawlDelay() {
    return crawlDelay;
  }

  // '*' any run of characters, a final '$' the end of the path; otherwise a prefix match. Greedy with
  // one backtrack point (the last '*'), so a hostile pattern costs at most pattern x path steps.
  static boolean matches(String pattern, String path) {
    boolean anchored = pattern.endsWith("$");
    String p = anchored ? pattern.substring(0, pattern.length() - 1) : pattern;
    int pi = 0;
    int si = 0;
    int star = -1;
    int resume = 0;
    while (true) {
      if (pi < p.length() && p.charAt(pi) == '*') {
        star = pi++;
        resume = si;
      } else if (pi == p.length() && (!anchored || si == path.length())) {
        return true;
      } else if (pi < p.length() && si < path.length() && p.charAt(pi) == path.charAt(si)) {
        pi++;
        si++;
      } else if (star >= 0 && resume < path.length()) {
        pi = star + 1;
        si = ++resume;
      } else {
        return false;
      }
    }
  }
}
