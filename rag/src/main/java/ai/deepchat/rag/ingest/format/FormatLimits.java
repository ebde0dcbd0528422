package ai.deepchat.rag.ingest.format;

import org.apache.poi.openxml4j.util.ZipSecureFile;

/**
 * Bounds on what one document may expand to, so that a small upload cannot hold a worker's memory:
 * archives are refused above a compression ratio or an unpacked part size (zip bombs), PDFs above a
 * page count, and any document above a length of extracted text.
 */
final class FormatLimits {

  /** Extracted Markdown of one document, in characters (about the text of 10,000 book pages). */
  static final int MAX_TEXT_CHARS = 20_000_000;
  static final int MAX_PDF_PAGES = 5_000;
  /** An unpacked part of an Office or EPUB archive; POI holds a part's XML as a tree in memory. */
  static final long MAX_PART_BYTES = 64L * 1024 * 1024;
  /**
   * Unpacked over packed size of an archive part. Prose compresses 5-20 times, but repetitive XML (a
   * sheet of styled empty cells, generated reports) passes 100, which is POI's default and refused real
   * files; deflate tops out near 1,032, where zip bombs sit. The part size above is the memory bound.
   */
  static final double MAX_RATIO = 500;
  /** A PDF's decoded streams beyond this go to a temporary file instead of the heap. */
  static final long PDF_MEMORY_BYTES = 32L * 1024 * 1024;

  static {
    // POI's own zip-bomb guard, process-wide: every OOXML file POI opens is checked part by part
    ZipSecureFile.setMinInflateRatio(1 / MAX_RATIO);
    ZipSecureFile.setMaxEntrySize(MAX_PART_BYTES);
    // (POI's own text-size limit is for its text extractors; MarkdownWriter enforces MAX_TEXT_CHARS)
  }

  private FormatLimits() {
  }

  /** Applies POI's settings (idempotent); call before opening an Office document. */
  static void apply() {
    // the static initializer did the work
  }
}
