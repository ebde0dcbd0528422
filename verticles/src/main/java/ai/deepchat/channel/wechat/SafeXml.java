package ai.deepchat.channel.wechat;

import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.StringReader;

/**
 * Parses WeChat's XML with document types refused outright: no DTD, so no external or internal
 * entities (XXE, entity expansion) whatever the parser's defaults. Every push, and every decrypted
 * message, passes here before WxJava's XStream model reads it.
 */
final class SafeXml {

  private static final ThreadLocal<DocumentBuilder> BUILDER = ThreadLocal.withInitial(SafeXml::builder);

  /** Errors become the exception below, not lines on stderr. */
  private static final ErrorHandler QUIET = new ErrorHandler() {
    @Override
    public void warning(SAXParseException e) {
    }

    @Override
    public void error(SAXParseException e) throws SAXParseException {
      throw e;
    }

    @Override
    public void fatalError(SAXParseException e) throws SAXParseException {
      throw e;
    }
  };

  private SafeXml() {
  }

  private static DocumentBuilder builder() {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature("http://xml.org/sax/features/external-general-entities", false);
      f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
      f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
      f.setXIncludeAware(false);
      f.setExpandEntityReferences(false);
      return f.newDocumentBuilder();
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The document, or {@link ChannelCrypto.Refused} when it is not well-formed XML without a DTD. */
  static Document parse(String xml) {
    try {
      DocumentBuilder b = BUILDER.get();
      b.reset();
      b.setErrorHandler(QUIET);
      return b.parse(new InputSource(new StringReader(xml)));
    } catch (Exception e) {
      throw new ChannelCrypto.Refused("the body is not well-formed XML without a document type");
    }
  }

  /** The text of the root's child element {@code name}, or null. */
  static String child(Document doc, String name) {
    for (Node n = doc.getDocumentElement().getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n.getNodeType() == Node.ELEMENT_NODE && n.getNodeName().equals(name)) {
        return n.getTextContent();
      }
    }
    return null;
  }
}
