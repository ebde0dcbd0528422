package ai.deepchat.policy.privacy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks personal data in text before it is stored: e-mail addresses, Chinese resident ID numbers
 * (checksum validated), bank card numbers (Luhn validated), Chinese mobile and landline numbers, and
 * international numbers written with a leading '+'. What stays visible is what a support agent needs
 * to recognise a record without holding the data: the last four digits of phones, cards and IDs, the
 * first letter and domain of an e-mail. Stateless and thread-safe.
 */
public final class PiiMasker {

  /** A detected item: chars [start, end) of kind {@code kind}. */
  public record Finding(int start, int end, Kind kind) {
  }

  public enum Kind { EMAIL, ID_CARD, BANK_CARD, PHONE }

  private static final Pattern EMAIL = Pattern.compile(
      "(?<![\\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@([A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
          + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\\.[A-Za-z]{2,24})(?![\\w-])");
  private static final Pattern ID_CARD = Pattern.compile("(?<![0-9A-Za-z])(\\d{17}[0-9Xx])(?![0-9A-Za-z])");
  // 13-19 digits, optionally grouped by single spaces or dashes
  private static final Pattern CARD = Pattern.compile("(?<![\\d-])(\\d(?:[ -]?\\d){12,18})(?![\\d])");
  private static final Pattern CN_MOBILE = Pattern.compile(
      "(?<![\\d+])(?:(?:\\+|00)86[ -]?)?1[3-9]\\d(?:[ -]?\\d{4}){2}(?!\\d)");
  private static final Pattern CN_LANDLINE = Pattern.compile("(?<!\\d)0\\d{2,3}-\\d{7,8}(?!\\d)");
  // E.164 style: '+', country code, then digit groups; 8-15 digits in all
  private static final Pattern INTERNATIONAL = Pattern.compile(
      "(?<![\\w+])\\+\\d{1,3}(?:[ .-]?\\(?\\d{1,4}\\)?){1,6}(?!\\d)");
  /** The fewest digits any number kind needs: an international number's 8 (landlines 10, mobiles 11). */
  static final int MIN_DIGITS = 8;
  private static final int[] ID_WEIGHTS = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  private static final char[] ID_CHECK = "10X98765432".toCharArray();

  private PiiMasker() {
  }

  /**
   * False when no pattern can match, so most texts skip the six regular expressions: an address needs an
   * '@', and every number kind at least {@link #MIN_DIGITS} ASCII digits (what {@code \d} matches).
   */
  static boolean mayHold(String text) {
    int digits = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '@' || (c >= '0' && c <= '9' && ++digits >= MIN_DIGITS)) {
        return true;
      }
    }
    return false;
  }

  /** The text with every finding masked. */
  public static String mask(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    List<Finding> findings = find(text);
    if (findings.isEmpty()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    int at = 0;
    for (Finding f : findings) {
      out.append(text, at, f.start());
      out.append(maskOne(text.substring(f.start(), f.end()), f.kind()));
      at = f.end();
    }
    return out.append(text, at, text.length()).toString();
  }

  /** Non-overlapping findings in order; earlier kinds in {@link Kind} win overlaps. */
  public static List<Finding> find(String text) {
    return mayHold(text) ? scan(text) : List.of();
  }

  /** {@link #find} without the cheap test first. */
  static List<Finding> scan(String text) {
    List<Finding> all = new ArrayList<>();
    collect(all, EMAIL, text, Kind.EMAIL, s -> true);
    collect(all, ID_CARD, text, Kind.ID_CARD, PiiMasker::validIdCard);
    collect(all, CARD, text, Kind.BANK_CARD, s -> luhn(digits(s)));
    collect(all, CN_MOBILE, text, Kind.PHONE, s -> true);
    collect(all, CN_LANDLINE, text, Kind.PHONE, s -> true);
    collect(all, INTERNATIONAL, text, Kind.PHONE, s -> {
      int d = digits(s).length();
      return d >= 8 && d <= 15;
    });
    List<Finding> kept = new ArrayList<>();
    for (Finding f : all) {
      boolean overlaps = kept.stream().anyMatch(k -> f.start() < k.end() && k.start() < f.end());
      if (!overlaps) {
        kept.add(f);
      }
    }
    kept.sort(Comparator.comparingInt(Finding::start));
    return kept;
  }

  /** GB 11643-1999: 6-digit region, valid birth date, sequence, ISO 7064 MOD 11-2 check character. */
  public static boolean validIdCard(String id) {
    if (id.length() != 18) {
      return false;
    }
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      char c = id.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      sum += (c - '0') * ID_WEIGHTS[i];
    }
    if (Character.toUpperCase(id.charAt(17)) != ID_CHECK[sum % 11]) {
      return false;
    }
    try {
      java.time.LocalDate birth = java.time.LocalDate.parse(id.substring(6, 14),
          java.time.format.DateTimeFormatter.BASIC_ISO_DATE);
      return birth.getYear() >= 1880 && !birth.isAfter(java.time.LocalDate.now());
    } catch (java.time.format.DateTimeParseException e) {
      return false;
    }
  }

  public static boolean luhn(String digits) {
    if (digits.length() < 13 || digits.length() > 19) {
      return false;
    }
    int sum = 0;
    boolean dbl = false;
    for (int i = digits.length() - 1; i >= 0; i--) {
      int d = digits.charAt(i) - '0';
      if (dbl) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      dbl = !dbl;
    }
    return sum % 10 == 0;
  }

  private interface Check {
    boolean ok(String s);
  }

  private static void collect(List<Finding> into, Pattern p, String text, Kind kind, Check check) {
    Matcher m = p.matcher(text);
    while (m.find()) {
      if (check.ok(m.group())) {
        into.add(new Finding(m.start(), m.end(), kind));
      }
    }
  }

  private static String digits(String s) {
    StringBuilder d = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        d.append(c);
      }
    }
    return d.toString();
  }

  private static String maskOne(String s, Kind kind) {
    if (kind == Kind.EMAIL) {
      int at = s.indexOf('@');
      return s.charAt(0) + "***" + s.substring(at);
    }
    // keep separators and a leading '+', hide all digits (and an ID's X) but the last four
    int visibleFrom = s.length();
    int seen = 0;
    while (visibleFrom > 0 && seen < 4) {
      visibleFrom--;
      if (Character.isLetterOrDigit(s.charAt(visibleFrom))) {
        seen++;
      }
    }
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      out.append(i < visibleFrom && Character.isLetterOrDigit(c) ? '*' : c);
    }
    return out.toString();
  }
}
