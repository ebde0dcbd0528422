package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;

import java.util.Locale;

/** What an upload is, decided by its file name's extension. */
public enum SourceFormat {
  MARKDOWN("text/markdown"),
  TEXT("text/plain"),
  HTML("text/html");

  private final String contentType;

  SourceFormat(String contentType) {
    this.contentType = contentType;
  }

  public String contentType() {
    return contentType;
  }

  public static SourceFormat of(String sourceName) {
    String name = sourceName.toLowerCase(Locale.ROOT);
    if (name.endsWith(".md") || name.endsWith(".markdown")) {
      return MARKDOWN;
    }
    if (name.endsWith(".txt") || name.endsWith(".text")) {
      return TEXT;
    }
    if (name.endsWith(".html") || name.endsWith(".htm")) {
      return HTML;
    }
    throw new RagException(RagError.UNSUPPORTED_TYPE,
        "unsupported file type: " + sourceName + " (expected .md, .txt or .html)");
  }
}
