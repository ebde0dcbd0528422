package ai.deepchat.console.markdown;

import ai.deepchat.platform.text.MarkdownNesting;
import com.vladsch.flexmark.ext.autolink.AutolinkExtension;
import com.vladsch.flexmark.ext.gfm.strikethrough.StrikethroughExtension;
import com.vladsch.flexmark.ext.tables.TablesExtension;
import com.vladsch.flexmark.html.HtmlRenderer;
import com.vladsch.flexmark.parser.Parser;
import com.vladsch.flexmark.util.data.MutableDataSet;
import com.vladsch.flexmark.util.sequence.Escaping;
import org.owasp.html.HtmlPolicyBuilder;
import org.owasp.html.PolicyFactory;

import java.util.List;

/**
 * Markdown of documents and answers as HTML that is safe to put in a console page: flexmark renders
 * (raw HTML in the source is escaped, not passed through), then an OWASP allow-list keeps only
 * formatting, tables, code and https links (rel="noopener nofollow"). Images, scripts, styles, event
 * handlers and every other URL scheme are removed, so nothing in a document can run or phone home.
 *
 * <p>Bounded: flexmark recurses per nesting level (a few hundred levels overflow the stack) and some
 * inline constructs cost quadratic time, so only the first {@link #MAX_MARKDOWN_CHARS} of a text are
 * rendered as Markdown, the rest is shown as escaped plain text, and a text nesting lists or quotes
 * deeper than {@link MarkdownNesting#MAX_DEPTH} is shown as plain text altogether. Even so this is
 * CPU work: pages call it through {@link MarkdownRenderer}, off the event loop.
 */
final class SafeMarkdown {

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

  /** Characters of one text rendered as Markdown; worst-case inline parsing of this much stays well under a second. */
  public static final int MAX_MARKDOWN_CHARS = 8 * 1024;

  private SafeMarkdown() {
  }

  public static String toHtml(String markdown) {
    if (markdown == null || markdown.isEmpty()) {
      return "";
    }
    int cut = markdown.length() <= MAX_MARKDOWN_CHARS ? markdown.length() : lineEndBefore(markdown, MAX_MARKDOWN_CHARS);
    String head = markdown.substring(0, cut);
    if (MarkdownNesting.tooDeep(head)) {
      return plain(markdown);
    }
    String html;
    try {
      html = sanitize(RENDERER.render(PARSER.parse(head)));
    } catch (StackOverflowError e) {
      return plain(markdown); // nesting the scan did not foresee: show the text, never fail the page
    }
    return cut == markdown.length() ? html : html + plain(markdown.substring(cut));
  }

  /** The text as it is, escaped, in a {@code <pre>} (which keeps its line breaks). */
  public static String plain(String text) {
    return text == null || text.isEmpty() ? "" : "<pre>" + Escaping.escapeHtml(text, false) + "</pre>";
  }

  // Cut at a line end so a paragraph or list item is not split mid-line (or at the limit if there is none).
  private static int lineEndBefore(String text, int limit) {
    int newline = text.lastIndexOf('\n', limit - 1);
    return newline > limit / 2 ? newline + 1 : limit;
  }

  /** The allow-list alone, for HTML that did not come from Markdown. */
  public static String sanitize(String html) {
    return POLICY.sanitize(html);
  }
}
