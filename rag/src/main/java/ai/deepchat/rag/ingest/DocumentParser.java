package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import com.vladsch.flexmark.html2md.converter.FlexmarkHtmlConverter;

import java.time.Duration;

/**
 * Decoded text of any accepted format into a titled list of chunks. CPU-bound: call on a worker.
 * Each document gets a wall-clock budget ({@code parseTimeout}); one that overruns it is refused.
 */
public final class DocumentParser {

  private static final FlexmarkHtmlConverter HTML_TO_MARKDOWN = FlexmarkHtmlConverter.builder().build();

  private final MarkdownChunker chunker;
  private final Duration parseTimeout;

  public DocumentParser(int budgetTokens, int overlapTokens) {
    this(budgetTokens, overlapTokens, RagConfig.DEFAULT_PARSE_TIMEOUT);
  }

  public DocumentParser(int budgetTokens, int overlapTokens, Duration parseTimeout) {
    this.chunker = new MarkdownChunker(budgetTokens, overlapTokens);
    this.parseTimeout = parseTimeout;
  }

  public ParsedDocument parse(String sourceName, SourceFormat format, String text) {
    try {
      return parseMarkup(sourceName, format, text, ParseDeadline.in(parseTimeout.toNanos()));
    } catch (StackOverflowError e) {
      // the converters recurse per nesting level; a document deeper than the scan foresaw is refused
      throw tooDeep(sourceName, "its markup");
    } catch (ParseDeadline.Expired e) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " took longer than "
          + RagConfig.describe(parseTimeout) + " to parse; split it into smaller documents, or remove "
          + "long runs of unmatched Markdown syntax, and upload it again");
    }
  }

  private ParsedDocument parseMarkup(String sourceName, SourceFormat format, String text,
                                     ParseDeadline deadline) {
    String markdown = switch (format) {
      case MARKDOWN -> text;
      case HTML -> HTML_TO_MARKDOWN.convert(text);
      case TEXT -> null;
    };
    deadline.check();
    int deep = markdown == null ? -1 : MarkdownNesting.firstLineDeeperThan(markdown, MarkdownNesting.MAX_DEPTH);
    if (deep > 0) {
      throw tooDeep(sourceName, format == SourceFormat.MARKDOWN ? "line " + deep : "its markup");
    }
    MarkdownChunker.Outline outline = markdown == null ? new MarkdownChunker.Outline(null, chunker.chunkText(text))
        : chunker.outline(deadline.watch(markdown));
    if (outline.chunks().isEmpty()) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " has no text to index");
    }
    String title = outline.title();
    return new ParsedDocument(title == null || title.isBlank() ? baseName(sourceName) : title,
        format, outline.chunks());
  }

  private static RagException tooDeep(String sourceName, String where) {
    return new RagException(RagError.INVALID_INPUT, sourceName + " nests lists or quotes more than "
        + MarkdownNesting.MAX_DEPTH + " levels deep (" + where + "); flatten it and upload it again");
  }

  static String baseName(String sourceName) {
    String name = sourceName.substring(sourceName.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
