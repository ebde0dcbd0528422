package ai.deepchat.tokenizer.template;

import com.hubspot.jinjava.objects.collections.PyList;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's str methods (and dict.get with a default) for method calls in templates. HF templates are
 * written against Python objects; without this Jinjava would call Java's {@code String.split}, which
 * takes a regex and drops trailing empty strings, so R1's {@code content.split('</think>')[-1]} on a
 * reply ending in {@code </think>} would keep the reasoning instead of yielding ''. Calls it does not
 * know fall through to Jinjava's own resolvers.
 */
final class PyMethodResolver extends ELResolver {

  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes,
      Object[] params) {
    if (method == null) {
      return null;
    }
    Object[] args = params == null ? new Object[0] : params;
    Object result;
    if (base instanceof String s) {
      result = stringMethod(s, method.toString(), args);
    } else if (base instanceof Map<?, ?> map && "get".equals(method.toString())
        && args.length == 2) {
      result = map.containsKey(args[0]) ? map.get(args[0]) : args[1];
    } else {
      return null;
    }
    if (result == NOT_HANDLED) {
      return null;
    }
    context.setPropertyResolved(true);
    return result;
  }

  private static final Object NOT_HANDLED = new Object();

  private static Object stringMethod(String s, String name, Object[] a) {
    return switch (name) {
      case "split" -> list(split(s, str(a, 0), maxSplit(a, 1)));
      case "rsplit" -> list(rsplit(s, str(a, 0), maxSplit(a, 1)));
      case "splitlines" -> list(splitLines(s));
      case "strip" -> rstrip(lstrip(s, str(a, 0)), str(a, 0));
      case "lstrip" -> lstrip(s, str(a, 0));
      case "rstrip" -> rstrip(s, str(a, 0));
      case "startswith" -> anyAffix(a, s::startsWith);
      case "endswith" -> anyAffix(a, s::endsWith);
      case "lower" -> s.toLowerCase(Locale.ROOT);
      case "upper" -> s.toUpperCase(Locale.ROOT);
      case "title" -> title(s);
      case "capitalize" -> s.isEmpty() ? s
          : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
      case "replace" -> a.length >= 2 ? replace(s, String.valueOf(a[0]), String.valueOf(a[1]),
          a.length > 2 ? ((Number) a[2]).intValue() : -1) : NOT_HANDLED;
      case "find" -> a.length == 1 ? (long) s.indexOf(String.valueOf(a[0])) : NOT_HANDLED;
      case "count" -> a.length == 1 ? count(s, String.valueOf(a[0])) : NOT_HANDLED;
      case "join" -> a.length == 1 && a[0] instanceof Iterable<?> items ? join(s, items)
          : NOT_HANDLED;
      default -> NOT_HANDLED;
    };
  }

  private static String str(Object[] a, int i) {
    return i < a.length && a[i] != null ? String.valueOf(a[i]) : null;
  }

  private static int maxSplit(Object[] a, int i) {
    return i < a.length && a[i] instanceof Number n ? n.intValue() : -1;
  }

  private static PyList list(List<String> parts) {
    return new PyList(new ArrayList<>(parts));
  }

  static List<String> split(String s, String sep, int max) {
    List<String> out = new ArrayList<>();
    if (sep == null) {
      // Whitespace split: runs of whitespace separate, no empty strings.
      int i = 0;
      int n = s.length();
      while (true) {
        while (i < n && Character.isWhitespace(s.charAt(i))) {
          i++;
        }
        if (i >= n) {
          return out;
        }
        if (max >= 0 && out.size() == max) {
          out.add(s.substring(i).stripTrailing());
          return out;
        }
        int j = i;
        while (j < n && !Character.isWhitespace(s.charAt(j))) {
          j++;
        }
        out.add(s.substring(i, j));
        i = j;
      }
    }
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    int from = 0;
    int at;
    while ((max < 0 || out.size() < max) && (at = s.indexOf(sep, from)) >= 0) {
      out.add(s.substring(from, at));
      from = at + sep.length();
    }
    out.add(s.substring(from));
    return out;
  }

  static List<String> rsplit(String s, String sep, int max) {
    if (sep == null || max < 0) {
      return split(s, sep, max);
    }
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    List<String> out = new ArrayList<>();
    int end = s.length();
    int at;
    while (out.size() < max && (at = s.lastIndexOf(sep, end - sep.length())) >= 0) {
      out.add(0, s.substring(at + sep.length(), end));
      end = at;
    }
    out.add(0, s.substring(0, end));
    return out;
  }

  private static List<String> splitLines(String s) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\n' || c == '\r') {
        out.add(s.substring(start, i));
        if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
          i++;
        }
        start = i + 1;
      }
    }
    // Python yields no empty string after a final line break.
    if (start < s.length()) {
      out.add(s.substring(start));
    }
    return out;
  }

  private static String lstrip(String s, String chars) {
    int i = 0;
    while (i < s.length() && strippable(s.charAt(i), chars)) {
      i++;
    }
    return s.substring(i);
  }

  private static String rstrip(String s, String chars) {
    int j = s.length();
    while (j > 0 && strippable(s.charAt(j - 1), chars)) {
      j--;
    }
    return s.substring(0, j);
  }

  private static boolean strippable(char c, String chars) {
    return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
  }

  private static Object anyAffix(Object[] a, java.util.function.Predicate<String> test) {
    if (a.length != 1) {
      return NOT_HANDLED;
    }
    if (a[0] instanceof Collection<?> options) {
      return options.stream().anyMatch(o -> test.test(String.valueOf(o)));
    }
    return test.test(String.valueOf(a[0]));
  }

  private static String title(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean prevCased = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      out.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
      prevCased = Character.isLetter(c);
    }
    return out.toString();
  }

  private static String replace(String s, String old, String with, int count) {
    if (count < 0 || old.isEmpty()) {
      return s.replace(old, with);
    }
    StringBuilder out = new StringBuilder();
    int from = 0;
    int at;
    for (int done = 0; done < count && (at = s.indexOf(old, from)) >= 0; done++) {
      out.append(s, from, at).append(with);
      from = at + old.length();
    }
    return out.append(s, from, s.length()).toString();
  }

  private static long count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.length() + 1L;
    }
    long n = 0;
    for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
      n++;
    }
    return n;
  }

  private static String join(String sep, Iterable<?> items) {
    StringBuilder out = new StringBuilder();
    Iterator<?> it = items.iterator();
    while (it.hasNext()) {
      out.append(it.next());
      if (it.hasNext()) {
        out.append(sep);
      }
    }
    return out.toString();
  }

  // Property access is left to Jinjava's resolvers; this one only answers method calls.

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {
  }

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }
}
