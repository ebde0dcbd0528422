package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import com.vladsch.flexmark.html2md.converter.FlexmarkHtmlConverter;

import java.util.List;

/** Decoded text of any accepted format into a titled list of chunks. CPU-bound: call on a worker. */
public final class DocumentParser {

  private static final FlexmarkHtmlConverter HTML_TO_MARKDOWN = FlexmarkHtmlConverter.builder().build();

  private final MarkdownChunker chunker;

  public DocumentParser(int budgetTokens, int overlapTokens) {
    this.chunker = new MarkdownChunker(budgetTokens, overlapTokens);
  }

  public ParsedDocument parse(String sourceName, SourceFormat format, String text) {
    try {
      return parseMarkup(sourceName, format, text);
    } catch (StackOverflowError e) {
      // the converters recurse per nesting level; a document deeper than the scan foresaw is refused
      throw tooDeep(sourceName, "its markup");
    }
  }

  private ParsedDocument parseMarkup(String sourceName, SourceFormat format, String text) {
    String markdown = switch (format) {
      case MARKDOWN -> text;
      case HTML -> HTML_TO_MARKDOWN.convert(text);
      case TEXT -> null;
    };
    int deep = markdown == null ? -1 : MarkdownNesting.firstLineDeeperThan(markdown, MarkdownNesting.MAX_DEPTH);
    if (deep > 0) {
      throw tooDeep(sourceName, format == SourceFormat.MARKDOWN ? "line " + deep : "its markup");
    }
    List<Chunk> chunks = markdown == null ? chunker.chunkText(text) : chunker.chunkMarkdown(markdown);
    if (chunks.isEmpty()) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " has no text to index");
    }
    String title = markdown == null ? null : MarkdownChunker.titleOf(markdown);
    return new ParsedDocument(title == null || title.isBlank() ? baseName(sourceName) : title,
        format, chunks);
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
