package ai.deepchat.rag.web;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SitemapTest {

  @Test
  void readsPagesOfAUrlSetAndSitemapsOfAnIndex() {
    Sitemap set = Sitemap.parse("""
        <?xml version="1.0" encoding="UTF-8"?>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <url><loc> https://example.test/a </loc><lastmod>2026-01-01</lastmod></url>
          <url><loc><![CDATA[https://example.test/b?x=1&y=2]]></loc></url>
        </urlset>
        """.getBytes(StandardCharsets.UTF_8), 100);
    assertThat(set.pages()).containsExactly("https://example.test/a", "https://example.test/b?x=1&y=2");
    Sitemap index = Sitemap.parse("""
        <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <sitemap><loc>https://example.test/s1.xml</loc></sitemap>
        </sitemapindex>
        """.getBytes(StandardCharsets.UTF_8), 100);
    assertThat(index.sitemaps()).containsExactly("https://example.test/s1.xml");
    assertThat(index.pages()).isEmpty();
  }

  @Test
  void stopsAtTheUrlCap() {
    StringBuilder xml = new StringBuilder("<urlset>");
    for (int i = 0; i < 50; i++) {
      xml.append("<url><loc>https://example.test/").append(i).append("</loc></url>");
    }
    xml.append("</urlset>");
    assertThat(Sitemap.parse(xml.toString().getBytes(StandardCharsets.UTF_8), 10).pages()).hasSize(10);
  }

  @Test
  void refusesExternalEntitiesAndDoctypes() {
    String xxe = """
        <?xml version="1.0"?>
        <!DOCTYPE urlset [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
        <urlset><url><loc>https://example.test/&secret;</loc></url></urlset>
        """;
    assertThatThrownBy(() -> Sitemap.parse(xxe.getBytes(StandardCharsets.UTF_8), 10))
        .isInstanceOf(Sitemap.Malformed.class);
    assertThatThrownBy(() -> Sitemap.parse("<urlset><url>".getBytes(StandardCharsets.UTF_8), 10))
        .isInstanceOf(Sitemap.Malformed.class);
  }
}
