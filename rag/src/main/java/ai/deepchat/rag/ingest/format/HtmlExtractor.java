package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.ParseDeadline;
import com.vladsch.flexmark.html2md.converter.FlexmarkHtmlConverter;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;

/**
 * A web page's main content as Markdown: jsoup finds it ({@code <main>}, the ARIA main role, or the
 * one {@code <article>}; else the body without its page header and footer), drops navigation, asides,
 * forms and scripts, and flexmark's HTML converter turns what is left into Markdown, keeping headings,
 * lists and tables.
 */
final class HtmlExtractor {

  private static final FlexmarkHtmlConverter TO_MARKDOWN = FlexmarkHtmlConverter.builder().build();
  private static final String NEVER_CONTENT = "script, style, noscript, template, nav, aside, form, iframe, "
      + "button, [role=navigation], [role=search], [role=complementary], [aria-hidden=true], [hidden]";
  private static final String PAGE_CHROME = "header, footer, [role=banner], [role=contentinfo]";

  private HtmlExtractor() {
  }

  static Extracted extract(String html, ParseDeadline deadline) {
    Document page = Jsoup.parse(html);
    deadline.check();
    return new Extracted(toMarkdown(mainContent(page)), page.title().isBlank() ? null : page.title().strip(),
        false);
  }

  /** The main content of a parsed page (chapter of a book, article of a site). */
  static Element mainContent(Document page) {
    Element root = page.selectFirst("main, [role=main]");
    if (root == null) {
      Elements articles = page.select("article");
      root = articles.size() == 1 ? articles.first() : page.body();
    }
    if (root == page.body()) {
      root.select(PAGE_CHROME).remove();
    }
    root.select(NEVER_CONTENT).remove();
    return root;
  }

  static String toMarkdown(Element content) {
    return TO_MARKDOWN.convert(content.outerHtml());
  }
}
