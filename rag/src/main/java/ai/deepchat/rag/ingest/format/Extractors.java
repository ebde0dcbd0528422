package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.ingest.ParseDeadline;
import ai.deepchat.rag.ingest.SourceFormat;
import org.apache.poi.EncryptedDocumentException;

import java.util.Map;

/** The extractor of each format, and the one place their failures become per-document errors. */
public final class Extractors {

  private static final Map<SourceFormat, FormatExtractor> BINARY = Map.of(
      SourceFormat.PDF, new PdfExtractor(TesseractOcr.DEFAULT),
      SourceFormat.DOCX, new DocxExtractor(),
      SourceFormat.DOC, new DocExtractor(),
      SourceFormat.XLSX, new XlsxExtractor(),
      SourceFormat.XLS, new XlsExtractor(),
      SourceFormat.PPTX, new SlidesExtractor(),
      SourceFormat.EPUB, new EpubExtractor());

  private Extractors() {
  }

  /** Markdown of decoded text of a text format (HTML and CSV are converted; Markdown is itself). */
  public static Extracted fromText(String sourceName, SourceFormat format, String text, ParseDeadline deadline) {
    return switch (format) {
      case HTML -> HtmlExtractor.extract(text, deadline);
      case CSV -> CsvExtractor.extract(sourceName, text, deadline);
      case MARKDOWN -> new Extracted(text, null, false);
      default -> throw new IllegalArgumentException(format + " is not converted from text");
    };
  }

  /** Markdown of a binary document (PDF, Office, EPUB); any failure is a {@link RagException}. */
  public static Extracted fromBytes(String sourceName, SourceFormat format, byte[] bytes, ParseDeadline deadline) {
    FormatExtractor extractor = BINARY.get(format);
    if (extractor == null) {
      throw new IllegalArgumentException(format + " is not a binary format");
    }
    try {
      return extractor.extract(sourceName, bytes, deadline);
    } catch (RagException | ParseDeadline.Expired e) {
      throw e;
    } catch (EncryptedDocumentException e) {
      throw new RagException(RagError.INVALID_INPUT, sourceName
          + " is password-protected; remove the password and upload it again");
    } catch (Exception e) {
      if (mentions(e, "Zip bomb")) {
        throw new RagException(RagError.INVALID_INPUT, EpubExtractor.zipBomb(sourceName));
      }
      if (mentions(e, "DOCTYPE is disallowed")) {
        // POI's XML parsers refuse any DTD, so an external entity (XXE) is never resolved
        throw new RagException(RagError.INVALID_INPUT, sourceName + " declares a DTD (DOCTYPE), which "
            + "Office documents never do; refused so that no external entity is ever loaded");
      }
      throw new RagException(RagError.INVALID_INPUT, sourceName + " could not be read as "
          + format.name() + " (damaged, or not what its name says): " + brief(e));
    }
  }

  private static boolean mentions(Throwable e, String words) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains(words)) {
        return true;
      }
    }
    return false;
  }

  // the parser's own words, first line only: enough to tell a damaged file from an unusual one
  private static String brief(Exception e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    String line = message.lines().findFirst().orElse(message).strip();
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }
}
