package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.ingest.ParseDeadline;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.parser.Parser;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * EPUB: the container names the package document, whose spine lists the chapters in reading order;
 * each chapter's XHTML goes through {@link HtmlExtractor}. XML is read with jsoup's XML parser, which
 * never loads external entities or DTDs, and every part is unpacked under the size and ratio limits.
 */
final class EpubExtractor implements FormatExtractor {

  @Override
  public Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws IOException {
    try (ZipFile zip = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(bytes)).get()) {
      Document container = xml(sourceName, zip, "META-INF/container.xml");
      Element rootfile = container.selectFirst("rootfile[full-path]");
      if (rootfile == null) {
        throw new RagException(RagError.INVALID_INPUT, sourceName + " is not a valid EPUB: no package document");
      }
      String opfPath = rootfile.attr("full-path");
      Document opf = xml(sourceName, zip, opfPath);
      Map<String, String> hrefs = new HashMap<>();
      for (Element item : opf.select("manifest > item")) {
        hrefs.put(item.attr("id"), item.attr("href"));
      }
      StringBuilder markdown = new StringBuilder();
      for (Element itemref : opf.select("spine > itemref")) {
        String href = hrefs.get(itemref.attr("idref"));
        if (href == null) {
          continue;
        }
        String path = URI.create("/" + opfPath).resolve(href.replace(" ", "%20")).getPath().substring(1);
        Document chapter = Jsoup.parse(text(sourceName, zip, path));
        markdown.append(HtmlExtractor.toMarkdown(HtmlExtractor.mainContent(chapter))).append("\n\n");
        deadline.check();
        if (markdown.length() > FormatLimits.MAX_TEXT_CHARS) {
          throw new RagException(RagError.INVALID_INPUT, sourceName + " holds more than "
              + FormatLimits.MAX_TEXT_CHARS + " characters of text; split it and upload the parts");
        }
      }
      Element title = opf.selectFirst("metadata > dc|title, metadata > title");
      return new Extracted(markdown.toString(), title == null ? null : title.text(), false);
    }
  }

  private static Document xml(String sourceName, ZipFile zip, String path) throws IOException {
    return Jsoup.parse(text(sourceName, zip, path), "", Parser.xmlParser());
  }

  private static String text(String sourceName, ZipFile zip, String path) throws IOException {
    ZipArchiveEntry entry = zip.getEntry(path);
    if (entry == null) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is not a valid EPUB: " + path + " is missing");
    }
    return new String(unpack(sourceName, zip, entry), StandardCharsets.UTF_8);
  }

  // counts what is inflated, so neither a lying size field nor a high ratio gets past the limits
  static byte[] unpack(String sourceName, ZipFile zip, ZipArchiveEntry entry) throws IOException {
    long packed = Math.max(entry.getCompressedSize(), 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = zip.getInputStream(entry)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        out.write(buffer, 0, n);
        if (out.size() > FormatLimits.MAX_PART_BYTES
            || out.size() > 1024 * 1024 && out.size() > packed * FormatLimits.MAX_RATIO) {
          throw new RagException(RagError.INVALID_INPUT, zipBomb(sourceName));
        }
      }
    }
    return out.toByteArray();
  }

  static String zipBomb(String sourceName) {
    return sourceName + " unpacks to far more data than it holds (a part above "
        + FormatLimits.MAX_PART_BYTES / (1024 * 1024) + " MiB or compressed more than "
        + (int) FormatLimits.MAX_RATIO + " to 1): refused as a possible zip bomb";
  }
}
