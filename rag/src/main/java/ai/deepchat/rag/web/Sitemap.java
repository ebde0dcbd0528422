package ai.deepchat.rag.web;

import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One sitemap.xml: page URLs of a {@code <urlset>}, or the sitemaps of a {@code <sitemapindex>}. Parsed
 * with StAX, DTDs and external entities off (a sitemap is text the crawled site controls), keeping at
 * most {@code maxUrls} entries.
 *
 * @param pages    {@code <url><loc>} entries
 * @param sitemaps {@code <sitemap><loc>} entries of an index
 */
public record Sitemap(List<String> pages, List<String> sitemaps) {

  /** A fifth of the protocol's 50 MB cap: held in memory while parsed, and 10 MB lists some 100,000 URLs. */
  public static final int MAX_BYTES = 10 * 1024 * 1024;

  /** Thrown for a body that is not well-formed sitemap XML. */
  public static final class Malformed extends RuntimeException {
    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  public static Sitemap parse(byte[] xml, int maxUrls) {
    XMLInputFactory factory = XMLInputFactory.newFactory();
    factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    factory.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
    List<String> pages = new ArrayList<>();
    List<String> sitemaps = new ArrayList<>();
    try {
      XMLStreamReader reader = factory.createXMLStreamReader(new ByteArrayInputStream(xml));
      try {
        String parent = null;
        StringBuilder loc = null;
        while (reader.hasNext() && pages.size() + sitemaps.size() < maxUrls) {
          int event = reader.next();
          if (event == XMLStreamConstants.DTD) {
            throw new Malformed("sitemaps with a DOCTYPE are refused");
          } else if (event == XMLStreamConstants.START_ELEMENT) {
            String name = reader.getLocalName();
            if (name.equals("url") || name.equals("sitemap")) {
              parent = name;
            } else if (name.equals("loc") && parent != null) {
              loc = new StringBuilder();
            }
          } else if ((event == XMLStreamConstants.CHARACTERS || event == XMLStreamConstants.CDATA) && loc != null) {
            if (loc.length() < 4_096) {
              loc.append(reader.getText());
            }
          } else if (event == XMLStreamConstants.END_ELEMENT) {
            String name = reader.getLocalName();
            if (name.equals("loc") && loc != null) {
              String url = loc.toString().strip();
              if (!url.isEmpty()) {
                (parent.equals("url") ? pages : sitemaps).add(url);
              }
              loc = null;
            } else if (name.equals(parent)) {
              parent = null;
            }
          }
        }
      } finally {
        reader.close();
      }
    } catch (XMLStreamException e) {
      throw new Malformed("not well-formed XML: " + e.getMessage());
    }
    return new Sitemap(List.copyOf(pages), List.copyOf(sitemaps));
  }
}
