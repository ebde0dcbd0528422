package ai.deepchat.faq;

import java.util.Locale;

/** The spreadsheet formats FAQ answers are imported from and exported to. */
public enum FaqFormat {
  CSV("text/csv; charset=utf-8", "csv"),
  XLSX("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx");

  private final String contentType;
  private final String extension;

  FaqFormat(String contentType, String extension) {
    this.contentType = contentType;
    this.extension = extension;
  }

  public String contentType() {
    return contentType;
  }

  public String extension() {
    return extension;
  }

  /** "csv" or "xlsx" (any case), or null for anything else. */
  public static FaqFormat named(String name) {
    if (name == null) {
      return null;
    }
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "csv" -> CSV;
      case "xlsx" -> XLSX;
      default -> null;
    };
  }

  /** The format a file name's extension or a request's content type says, or null. */
  public static FaqFormat detect(String fileName, String contentType) {
    if (fileName != null && fileName.lastIndexOf('.') >= 0) {
      FaqFormat byName = named(fileName.substring(fileName.lastIndexOf('.') + 1));
      if (byName != null) {
        return byName;
      }
    }
    String type = contentType == null ? "" : contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
    return type.equals("text/csv") ? CSV : type.equals(XLSX.contentType) ? XLSX : null;
  }
}
