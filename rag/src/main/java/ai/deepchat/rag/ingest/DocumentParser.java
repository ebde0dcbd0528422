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
    String markdown = switch (format) {
      case MARKDOWN -> text;
      case HTML -> HTML_TO_MARKDOWN.convert(text);
      case TEXT -> null;
    };
    List<Chunk> chunks = markdown == null ? chunker.chunkText(text) : chunker.chunkMarkdown(markdown);
    if (chunks.isEmpty()) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " has no text to index");
    }
    String title = markdown == null ? null : MarkdownChunker.titleOf(markdown);
    return new ParsedDocument(title == null || title.isBlank() ? baseName(sourceName) : title,
        format, chunks);
  }

  static String baseName(String sourceName) {
    String name = sourceName.substring(sourceName.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
