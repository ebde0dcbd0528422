package ai.deepchat.rag.ingest;

import ai.deepchat.platform.text.MarkdownNesting;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.ingest.format.Extracted;
import ai.deepchat.rag.ingest.format.Extractors;

import java.time.Duration;
import java.util.function.Function;

/**
 * A document of any accepted format into a titled list of chunks: formats other than Markdown and
 * plain text are first converted to Markdown ({@link Extractors}), so their headings, lists and
 * tables reach the structure-aware {@link MarkdownChunker}. CPU-bound: call on a worker. Each
 * document gets a wall-clock budget ({@code parseTimeout}); one that overruns it is refused.
 */
public final class DocumentParser {

  private final MarkdownChunker chunker;
  private final Duration parseTimeout;

  public DocumentParser(int budgetTokens, int overlapTokens) {
    this(budgetTokens, overlapTokens, RagConfig.DEFAULT_PARSE_TIMEOUT);
  }

  public DocumentParser(int budgetTokens, int overlapTokens, Duration parseTimeout) {
    this.chunker = new MarkdownChunker(budgetTokens, overlapTokens);
    this.parseTimeout = parseTimeout;
  }

  /** A text format's decoded text ({@link SourceFormat#isText()}). */
  public ParsedDocument parse(String sourceName, SourceFormat format, String text) {
    if (format == SourceFormat.TEXT) {
      return guarded(sourceName, deadline -> plainText(sourceName, text));
    }
    return guarded(sourceName, deadline -> chunk(sourceName, format,
        Extractors.fromText(sourceName, format, text, deadline), deadline));
  }

  /** Any format's bytes: text formats are decoded as strict UTF-8 first. */
  public ParsedDocument parse(String sourceName, SourceFormat format, byte[] bytes) {
    if (format.isText()) {
      return parse(sourceName, format, DocumentDecoder.decode(sourceName, bytes, format));
    }
    return guarded(sourceName, deadline -> chunk(sourceName, format,
        Extractors.fromBytes(sourceName, format, bytes, deadline), deadline));
  }

  private ParsedDocument guarded(String sourceName, Function<ParseDeadline, ParsedDocument> parse) {
    try {
      return parse.apply(ParseDeadline.in(parseTimeout.toNanos()));
    } catch (StackOverflowError e) {
      // the converters recurse per nesting level; a document deeper than the scan foresaw is refused
      throw tooDeep(sourceName, "its markup");
    } catch (ParseDeadline.Expired e) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " took longer than "
          + RagConfig.describe(parseTimeout) + " to parse; split it into smaller documents, or remove "
          + "long runs of unmatched Markdown syntax, and upload it again");
    }
  }

  private ParsedDocument plainText(String sourceName, String text) {
    return titled(sourceName, SourceFormat.TEXT, new MarkdownChunker.Outline(null, chunker.chunkText(text)), null);
  }

  private ParsedDocument chunk(String sourceName, SourceFormat format, Extracted extracted,
                               ParseDeadline deadline) {
    deadline.check();
    String markdown = extracted.markdown();
    int deep = MarkdownNesting.firstLineDeeperThan(markdown, MarkdownNesting.MAX_DEPTH);
    if (deep > 0) {
      throw tooDeep(sourceName, format == SourceFormat.MARKDOWN ? "line " + deep : "its markup");
    }
    return titled(sourceName, format, chunker.outline(deadline.watch(markdown), extracted.located()),
        extracted.title());
  }

  private static ParsedDocument titled(String sourceName, SourceFormat format, MarkdownChunker.Outline outline,
                                       String ownTitle) {
    if (outline.chunks().isEmpty()) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " has no text to index");
    }
    String title = outline.title();
    if (title == null || title.isBlank()) {
      title = ownTitle;
    }
    return new ParsedDocument(title == null || title.isBlank() ? baseName(sourceName) : title.strip(),
        format, outline.chunks());
  }

  private static RagException tooDeep(String sourceName, String where) {
    return new RagException(RagError.INVALID_INPUT, sourceName + " nests lists or quotes more than "
        + MarkdownNesting.MAX_DEPTH + " levels deep (" + where + "); flatten it and upload it again");
  }

  /** A file name without folders and extension: the title of a document that has none. */
  public static String baseName(String sourceName) {
    String name = sourceName.substring(sourceName.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
