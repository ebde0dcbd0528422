package ai.deepchat.export;

import java.util.Locale;

/** The files a conversation export is written as. */
public enum ExportFormat {
  /** One row per message, the conversation's fields repeated on each (RFC 4180, UTF-8 with a byte-order mark). */
  CSV("text/csv; charset=utf-8", "csv"),
  /** One JSON object per line and conversation, its messages and ratings nested. */
  JSONL("application/x-ndjson; charset=utf-8", "jsonl");

  private final String contentType;
  private final String extension;

  ExportFormat(String contentType, String extension) {
    this.contentType = contentType;
    this.extension = extension;
  }

  public String contentType() {
    return contentType;
  }

  public String extension() {
    return extension;
  }

  /** "csv" or "jsonl" (any case); null (absent) is CSV; anything else is refused. */
  public static ExportFormat named(String name) {
    if (name == null || name.isEmpty()) {
      return CSV;
    }
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "csv" -> CSV;
      case "jsonl" -> JSONL;
      default -> throw new ExportFilter.Invalid("format", "format must be csv or jsonl.");
    };
  }
}
