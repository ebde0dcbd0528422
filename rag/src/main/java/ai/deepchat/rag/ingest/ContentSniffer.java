package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.apache.poi.poifs.filesystem.DirectoryNode;
import org.apache.poi.poifs.filesystem.POIFSFileSystem;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * Decides what an upload really is from its first bytes and, for containers, from the names of its
 * parts (a ZIP's central directory or an OLE2 directory: nothing is inflated). The file name's claim
 * must agree, so a renamed file gets a clear error instead of a parser's stack trace.
 */
public final class ContentSniffer {

  private static final byte[] OLE2 = {(byte) 0xD0, (byte) 0xCF, 0x11, (byte) 0xE0, (byte) 0xA1, (byte) 0xB1,
      0x1A, (byte) 0xE1};
  // PDF readers accept the header anywhere in the first KiB
  private static final int PDF_HEADER_WINDOW = 1024;

  private ContentSniffer() {
  }

  /** The format of {@code bytes}, which must be the one {@code sourceName}'s extension claims. */
  public static SourceFormat sniff(String sourceName, byte[] bytes) {
    SourceFormat claimed = SourceFormat.of(sourceName);
    if (bytes.length == 0) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is empty");
    }
    Detected detected;
    try {
      detected = detect(bytes, claimed);
    } catch (RagException e) {
      throw new RagException(e.error(), sourceName + " is " + e.getMessage());
    }
    if (detected.format() == null && detected.kind() == null) {
      if (claimed.isText()) {
        return claimed; // text of any kind: DocumentDecoder refuses what is not UTF-8 text
      }
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is not " + article(claimed)
          + " document: its content is " + (DocumentDecoder.looksBinary(bytes) ? "unknown binary data" : "plain text"));
    }
    if (detected.format() == claimed) {
      return claimed;
    }
    String actual = detected.format() != null ? article(detected.format()) + " document" : detected.kind();
    String hint = detected.format() != null
        ? "; rename it to " + detected.format().extensions().get(0) + " and upload it again" : "";
    throw new RagException(detected.format() == null ? RagError.UNSUPPORTED_TYPE : RagError.INVALID_INPUT,
        sourceName + " is not " + article(claimed) + " document: its content is " + actual + hint);
  }

  /** A known format, or a description of something we recognise but do not ingest, or neither. */
  private record Detected(SourceFormat format, String kind) {
  }

  private static Detected detect(byte[] bytes, SourceFormat claimed) {
    // a text about PDFs may quote the header: only a file named .pdf gets the reader's leeway
    int pdfWindow = claimed == SourceFormat.PDF ? PDF_HEADER_WINDOW : 5;
    if (indexOf(bytes, "%PDF-".getBytes(), pdfWindow) >= 0) {
      return new Detected(SourceFormat.PDF, null);
    }
    if (startsWith(bytes, new byte[] {'P', 'K', 3, 4}) || startsWith(bytes, new byte[] {'P', 'K', 5, 6})) {
      return zip(bytes);
    }
    if (startsWith(bytes, OLE2)) {
      return ole2(bytes);
    }
    return new Detected(null, null);
  }

  private static Detected zip(byte[] bytes) {
    Set<String> names = new HashSet<>();
    try (ZipFile zip = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(bytes)).get()) {
      for (ZipArchiveEntry entry : Collections.list(zip.getEntries())) {
        names.add(entry.getName());
      }
    } catch (IOException | RuntimeException e) {
      throw new RagException(RagError.INVALID_INPUT, "a damaged ZIP container (" + e.getMessage() + ")");
    }
    if (names.contains("word/document.xml")) {
      return new Detected(SourceFormat.DOCX, null);
    }
    if (names.contains("xl/workbook.xml")) {
      return new Detected(SourceFormat.XLSX, null);
    }
    if (names.contains("ppt/presentation.xml")) {
      return new Detected(SourceFormat.PPTX, null);
    }
    if (names.contains("mimetype") && names.contains("META-INF/container.xml")) {
      return new Detected(SourceFormat.EPUB, null);
    }
    // OOXML parts may be named otherwise in odd producers; [Content_Types].xml still says it is OOXML
    return new Detected(null, names.contains("[Content_Types].xml")
        ? "an Office document of a kind we do not read" : "a ZIP archive");
  }

  private static Detected ole2(byte[] bytes) {
    try (POIFSFileSystem fs = new POIFSFileSystem(new ByteArrayInputStream(bytes))) {
      DirectoryNode root = fs.getRoot();
      if (root.hasEntryCaseInsensitive("EncryptedPackage")) {
        throw new RagException(RagError.INVALID_INPUT,
            "a password-protected Office document; remove the password and upload it again");
      }
      if (root.hasEntryCaseInsensitive("WordDocument")) {
        return new Detected(SourceFormat.DOC, null);
      }
      if (root.hasEntryCaseInsensitive("Workbook") || root.hasEntryCaseInsensitive("Book")) {
        return new Detected(SourceFormat.XLS, null);
      }
      if (root.hasEntryCaseInsensitive("PowerPoint Document")) {
        return new Detected(null, "an old binary PowerPoint file (.ppt); save it as .pptx");
      }
      return new Detected(null, "an OLE2 compound file of a kind we do not read");
    } catch (IOException | RuntimeException e) {
      if (e instanceof RagException rag) {
        throw rag;
      }
      throw new RagException(RagError.INVALID_INPUT, "a damaged Office (OLE2) file (" + e.getMessage() + ")");
    }
  }

  private static String article(SourceFormat format) {
    return switch (format) {
      case MARKDOWN -> "a Markdown";
      case TEXT -> "a text";
      case HTML -> "an HTML";
      case CSV -> "a CSV";
      case PDF -> "a PDF";
      case DOCX -> "a Word (.docx)";
      case DOC -> "a Word 97-2003 (.doc)";
      case XLSX -> "an Excel (.xlsx)";
      case XLS -> "an Excel 97-2003 (.xls)";
      case PPTX -> "a PowerPoint";
      case EPUB -> "an EPUB";
    };
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length && indexOf(bytes, prefix, prefix.length) == 0;
  }

  private static int indexOf(byte[] bytes, byte[] needle, int window) {
    int last = Math.min(bytes.length, window) - needle.length;
    outer:
    for (int i = 0; i <= last; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (bytes[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
