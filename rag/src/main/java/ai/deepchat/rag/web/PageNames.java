package ai.deepchat.rag.web;

/** The document name a web page is imported under: the same URL always gets the same name, so it replaces itself. */
public final class PageNames {

  private PageNames() {
  }

  /** "docs.example.com/guide/intro?x=1" becomes "docs.example.com_guide_intro_x_1.html". */
  public static String sourceName(String host, String pathAndQuery, String extension) {
    String name = (host + pathAndQuery).replaceAll("[^A-Za-z0-9.-]+", "_").replaceAll("_+$", "");
    if (name.endsWith(extension)) {
      name = name.substring(0, name.length() - extension.length());
    }
    return (name.length() > 200 ? name.substring(0, 200) : name) + extension;
  }
}
