package ai.deepchat.chat.widget;

import java.util.Locale;
import java.util.regex.Pattern;

/** What a widget origin is: its one spelling, and the shape the allow-list (and the refused list) accepts. */
public final class WidgetOrigin {

  /** scheme://host[:port] and nothing else, lower case: the widget endpoints compare origins exactly. */
  public static final Pattern PATTERN = Pattern.compile(
      "https?://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\\[[0-9a-f:]+\\])(:[0-9]{1,5})?");

  private WidgetOrigin() {
  }

  /** Browsers send origins as scheme://host[:port]; stored entries may differ only in case or a trailing slash. */
  public static String normalize(String origin) {
    String o = origin.strip().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }

  /** Whether {@code origin}, normalized, has the allow-list's shape (never "null", paths or credentials). */
  public static boolean valid(String origin) {
    return origin != null && origin.length() <= 300 && PATTERN.matcher(normalize(origin)).matches();
  }
}
