package ai.deepchat.console.web;

import io.vertx.ext.web.RoutingContext;
import org.thymeleaf.context.ITemplateContext;
import org.thymeleaf.messageresolver.IMessageResolver;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.MessageFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The console's two interface languages (English, Chinese) from UTF-8 bundles under
 * {@code console/i18n/}. The language comes from the {@code dc_lang} cookie, else Accept-Language.
 */
public final class I18n implements IMessageResolver {

  public static final String COOKIE = "dc_lang";
  public static final List<String> LANGUAGES = List.of("en", "zh");

  private final Map<String, Properties> bundles;

  public I18n() {
    this.bundles = Map.of("en", load("en"), "zh", load("zh"));
  }

  private static Properties load(String lang) {
    String path = "console/i18n/messages_" + lang + ".properties";
    try (InputStream in = I18n.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing message bundle " + path);
      }
      Properties p = new Properties();
      p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The language of this request: the cookie when valid, else the first supported Accept-Language. */
  public static String language(RoutingContext ctx) {
    var cookie = ctx.request().getCookie(COOKIE);
    if (cookie != null && LANGUAGES.contains(cookie.getValue())) {
      return cookie.getValue();
    }
    String accept = ctx.request().getHeader("Accept-Language");
    if (accept != null) {
      for (String part : accept.split(",")) {
        String tag = part.split(";")[0].trim().toLowerCase(Locale.ROOT);
        if (tag.startsWith("zh")) {
          return "zh";
        }
        if (tag.startsWith("en")) {
          return "en";
        }
      }
    }
    return "en";
  }

  public String message(String lang, String key, Object... params) {
    Properties bundle = bundles.getOrDefault(lang, bundles.get("en"));
    String pattern = bundle.getProperty(key, bundles.get("en").getProperty(key));
    if (pattern == null) {
      return key;
    }
    // always MessageFormat, so quoting rules ('' for an apostrophe) are the same with or without params
    return new MessageFormat(pattern, Locale.forLanguageTag(lang)).format(params);
  }

  public boolean has(String key) {
    return bundles.get("en").containsKey(key);
  }

  @Override
  public String getName() {
    return "deepchat-console";
  }

  @Override
  public Integer getOrder() {
    return 0;
  }

  @Override
  public String resolveMessage(ITemplateContext context, Class<?> origin, String key, Object[] params) {
    String lang = context.getLocale() == null ? "en" : context.getLocale().getLanguage();
    return message(lang, key, params == null ? new Object[0] : params);
  }

  @Override
  public String createAbsentMessageRepresentation(ITemplateContext context, Class<?> origin, String key,
                                                  Object[] params) {
    return key;
  }
}
