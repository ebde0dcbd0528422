package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;

import java.util.List;
import java.util.Locale;

/**
 * What an upload is. The extension names a claim; {@link ContentSniffer} checks the claim against the
 * bytes, so a file whose extension lies is refused rather than fed to the wrong parser.
 */
public enum SourceFormat {
  MARKDOWN("text/markdown", true, ".md", ".markdown"),
  TEXT("text/plain", true, ".txt", ".text"),
  HTML("text/html", true, ".html", ".htm", ".xhtml"),
  CSV("text/csv", true, ".csv"),
  PDF("application/pdf", false, ".pdf"),
  DOCX("application/vnd.openxmlformats-officedocument.wordprocessingml.document", false, ".docx"),
  DOC("application/msword", false, ".doc"),
  XLSX("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false, ".xlsx"),
  XLS("application/vnd.ms-excel", false, ".xls"),
  PPTX("application/vnd.openxmlformats-officedocument.presentationml.presentation", false, ".pptx"),
  EPUB("application/epub+zip", false, ".epub");

  private final String contentType;
  private final boolean text;
  private final List<String> extensions;

  SourceFormat(String contentType, boolean text, String... extensions) {
    this.contentType = contentType;
    this.text = text;
    this.extensions = List.of(extensions);
  }

  public String contentType() {
    return contentType;
  }

  /** UTF-8 text (decoded by {@link DocumentDecoder}), as opposed to a binary container. */
  public boolean isText() {
    return text;
  }

  /** Its file name extensions, the usual one first. */
  public List<String> extensions() {
    return extensions;
  }

  /** The format a file name claims, by its extension. */
  public static SourceFormat of(String sourceName) {
    String name = sourceName.toLowerCase(Locale.ROOT);
    for (SourceFormat format : values()) {
      for (String extension : format.extensions) {
        if (name.endsWith(extension)) {
          return format;
        }
      }
    }
    throw new RagException(RagError.UNSUPPORTED_TYPE, "unsupported file type: " + sourceName
        + " (expected .md, .txt, .html, .csv, .pdf, .docx, .doc, .xlsx, .xls, .pptx or .epub)");
  }
}
