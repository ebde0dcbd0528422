package ai.deepchat.console.markdown;

import com.vladsch.flexmark.ext.autolink.AutolinkExtension;
import com.vladsch.flexmark.ext.gfm.strikethrough.StrikethroughExtension;
import com.vladsch.flexmark.ext.tables.TablesExtension;
import com.vladsch.flexmark.html.HtmlRenderer;
import com.vladsch.flexmark.parser.Parser;
import com.vladsch.flexmark.util.data.MutableDataSet;
import org.owasp.html.HtmlPolicyBuilder;
import org.owasp.html.PolicyFactory;

import java.util.List;

/**
 * Markdown of documents and answers as HTML that is safe to put in a console page: flexmark renders
 * (raw HTML in the source is escaped, not passed through), then an OWASP allow-list keeps only
 * formatting, tables, code and https links (rel="noopener nofollow"). Images, scripts, styles, event
 * handlers and every other URL scheme are removed, so nothing in a document can run or phone home.
 */
public final class SafeMarkdown {

  private static final MutableDataSet OPTIONS = new MutableDataSet()
      .set(Parser.EXTENSIONS, List.of(TablesExtension.create(), StrikethroughExtension.create(),
          AutolinkExtension.create()))
      .set(HtmlRenderer.ESCAPE_HTML, true)
      .set(HtmlRenderer.SUPPRESS_HTML, false)
      .set(HtmlRenderer.SOFT_BREAK, "\n");
  private static final Parser PARSER = Parser.builder(OPTIONS).build();
  private static final HtmlRenderer RENDERER = HtmlRenderer.builder(OPTIONS).build();

  static final PolicyFactory POLICY = new HtmlPolicyBuilder()
      .allowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
          "ul", "ol", "li", "strong", "em", "b", "i", "del", "s", "sup", "sub",
          "table", "thead", "tbody", "tr", "th", "td", "a")
      .allowAttributes("href").onElements("a")
      .allowAttributes("start").matching(java.util.regex.Pattern.compile("[0-9]{1,6}")).onElements("ol")
      .allowAttributes("align").matching(true, "left", "right", "center").onElements("th", "td")
      .allowUrlProtocols("https")
      .requireRelsOnLinks("noopener", "nofollow", "noreferrer")
      .toFactory();

  private SafeMarkdown() {
  }

  public static String toHtml(String markdown) {
    if (markdown == null || markdown.isEmpty()) {
      return "";
    }
    return sanitize(RENDERER.render(PARSER.parse(markdown)));
  }

  /** The allow-list alone, for HTML that did not come from Markdown. */
  public static String sanitize(String html) {
    return POLICY.sanitize(html);
  }
}
