package ai.deepchat.rag;

import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.rag.ingest.format.SampleDocuments;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.INGESTION;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every accepted format end to end over real HTTP and PostgreSQL: uploaded as a multipart file, sniffed,
 * extracted (a scanned PDF by OCR), chunked with its structure, embedded and found by search; and every bad input of issue
 * #16 failing alone, with its reason on the document, while good documents beside it become ready.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FormatsIntegrationTest {

  private static final String BASE = "/v1/knowledge-bases";

  private Vertx vertx;
  private TestDatabase db;
  private Rag rag;
  private WebClient client;
  private UUID tenant;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    Path dataDir = Files.createTempDirectory("rag-formats");
    rag = Rag.create(vertx, db.database(), RagConfig.defaults(dataDir).withMaxUploadBytes(4 * 1024 * 1024));
    tenant = tenant(db.database(), "formats");
    Router root = Router.router(vertx);
    // stands in for the gateway's authentication, which puts the caller's tenant in the context
    root.route(BASE + "/*").handler(ctx -> {
      ctx.put("tenantId", tenant);
      ctx.next();
    });
    root.route(BASE + "/*").subRouter(rag.router());
    HttpServer server = await(vertx.createHttpServer().requestHandler(root).listen(0, "127.0.0.1"));
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(server.actualPort()));
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
    await(vertx.close());
  }

  @Test
  void everyFormatIsIngestedWithItsStructureAndFound() throws Exception {
    String kb = createKnowledgeBase("formats");
    Map<String, String> ids = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> sample : SampleDocuments.all().entrySet()) {
      HttpResponse<Buffer> accepted = upload(kb, sample.getKey(), sample.getValue());
      assertThat(accepted.statusCode()).as(sample.getKey() + ": " + accepted.bodyAsString()).isEqualTo(202);
      ids.put(sample.getKey(), accepted.bodyAsJsonObject().getString("id"));
    }
    for (Map.Entry<String, String> id : ids.entrySet()) {
      JsonObject doc = finished(kb, id.getValue());
      assertThat(doc.getString("status")).as(id.getKey() + ": " + doc).isEqualTo("ready");
    }
    assertThat(finished(kb, ids.get("pump-manual.pdf")).getString("content_type")).isEqualTo("application/pdf");

    // the structure each extractor found, as stored
    Map<String, String> pdfChunks = chunks(ids.get("pump-manual.pdf"));
    assertThat(pdfChunks).containsEntry("Harbor Pump Manual > Troubleshooting", "p. 3")
        .containsEntry("Harbor Pump Manual > Maintenance", "p. 2");
    assertThat(chunks(ids.get("parts.xlsx"))).containsKeys("parts > Prices", "parts > Suppliers");
    assertThat(chunks(ids.get("sensors.pptx"))).containsEntry("Sensor Overview", "slide 1")
        .containsEntry("Ranges", "slide 2");
    assertThat(chunks(ids.get("flange-guide.docx")))
        .containsKeys("Flange Assembly Guide > Preparation", "Flange Assembly Guide > Tightening");
    assertThat(chunks(ids.get("winch-guide.doc"))).containsKeys("Winch Service Guide > Inspection",
        "Winch Service Guide > Lubrication");

    // search finds each format's own phrase in its own document, a PDF's with its page
    Map<String, String> terms = new LinkedHashMap<>();
    terms.put("pump-manual.pdf", SampleDocuments.PDF_TERM);
    terms.put("invoice-scan.pdf", SampleDocuments.SCAN_TERM);
    terms.put("flange-guide.docx", SampleDocuments.DOCX_TERM);
    terms.put("winch-guide.doc", SampleDocuments.DOC_TERM);
    terms.put("parts.xlsx", SampleDocuments.XLSX_TERM);
    terms.put("parts-legacy.xls", SampleDocuments.XLS_TERM);
    terms.put("hoses.csv", SampleDocuments.CSV_TERM);
    terms.put("sensors.pptx", SampleDocuments.PPTX_TERM);
    terms.put("lighthouse.epub", SampleDocuments.EPUB_TERM);
    terms.put("sluice.html", SampleDocuments.HTML_TERM);
    for (Map.Entry<String, String> term : terms.entrySet()) {
      // among the first three: the two workbooks differ in one word, and fusion may rank either first
      List<JsonObject> hits = search(kb, term.getValue());
      assertThat(hits.subList(0, Math.min(3, hits.size()))).as(term.getValue()).anySatisfy(hit -> {
        assertThat(hit.getString("document_id")).isEqualTo(ids.get(term.getKey()));
        assertThat(hit.getString("text")).containsIgnoringCase(term.getValue());
      });
    }
    assertThat(search(kb, SampleDocuments.PDF_TERM).get(0).getString("section_path"))
        .isEqualTo("Harbor Pump Manual > Troubleshooting > p. 3");
    // a scan, read by OCR, is found by its Chinese words too, with its page
    JsonObject scan = search(kb, SampleDocuments.SCAN_TERM_ZH).get(0);
    assertThat(scan.getString("document_id")).isEqualTo(ids.get("invoice-scan.pdf"));
    assertThat(scan.getString("section_path")).isEqualTo("p. 1");
    assertThat(search(kb, SampleDocuments.NAV_TEXT)).noneMatch(h -> h.getString("text").contains(SampleDocuments.NAV_TEXT));
  }

  @Test
  void badDocumentsFailAloneWithTheirReason() throws Exception {
    String kb = createKnowledgeBase("bad input");
    Path secret = Files.writeString(Files.createTempFile("xxe", ".txt"), "CANARY-51d0");
    Map<String, byte[]> bad = new LinkedHashMap<>();
    bad.put("locked.pdf", SampleDocuments.encryptedPdf());
    bad.put("broken.pdf", SampleDocuments.corruptPdf());
    bad.put("bomb.docx", SampleDocuments.zipBombDocx());
    bad.put("xxe.docx", SampleDocuments.xxeDocx(secret));
    bad.put("xxe.xlsx", SampleDocuments.xxeXlsx(secret));
    Map<String, String> expected = Map.of(
        "locked.pdf", "password-protected",
        "broken.pdf", "could not be read as PDF",
        "bomb.docx", "refused as a possible zip bomb",
        "xxe.docx", "declares a DTD (DOCTYPE)",
        "xxe.xlsx", "declares a DTD (DOCTYPE)");
    String good = upload(kb, "before.pdf", SampleDocuments.pdf()).bodyAsJsonObject().getString("id");
    Map<String, String> ids = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> file : bad.entrySet()) {
      HttpResponse<Buffer> accepted = upload(kb, file.getKey(), file.getValue());
      assertThat(accepted.statusCode()).as(file.getKey()).isEqualTo(202);
      ids.put(file.getKey(), accepted.bodyAsJsonObject().getString("id"));
    }
    String after = upload(kb, "after.docx", SampleDocuments.docx()).bodyAsJsonObject().getString("id");
    for (Map.Entry<String, String> id : ids.entrySet()) {
      JsonObject doc = finished(kb, id.getValue());
      assertThat(doc.getString("status")).as(id.getKey()).isEqualTo("failed");
      assertThat(doc.getString("error")).startsWith(id.getKey()).contains(expected.get(id.getKey()))
          .doesNotContain("CANARY");
      assertThat(chunks(id.getValue())).isEmpty();
    }
    // the documents around them are whole
    assertThat(finished(kb, good).getString("status")).isEqualTo("ready");
    assertThat(finished(kb, after).getString("status")).isEqualTo("ready");
    assertThat(search(kb, SampleDocuments.DOCX_TERM).get(0).getString("document_id")).isEqualTo(after);

    // a file whose extension lies is refused at upload, naming what it really is; nothing is stored
    HttpResponse<Buffer> lying = upload(kb, "report.docx", SampleDocuments.pdf());
    assertThat(lying.statusCode()).isEqualTo(400);
    assertThat(lying.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("invalid_value");
    assertThat(lying.bodyAsJsonObject().getJsonObject("error").getString("message"))
        .isEqualTo("report.docx is not a Word (.docx) document: its content is a PDF document; rename it to "
            + ".pdf and upload it again");
    HttpResponse<Buffer> ppt = upload(kb, "deck.pptx", SampleDocuments.xls());
    assertThat(ppt.statusCode()).isEqualTo(400);
    assertThat(ppt.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("its content is an Excel 97-2003 (.xls) document");
    // a file over the upload limit is refused before it is read
    HttpResponse<Buffer> huge = upload(kb, "huge.pdf", new byte[5 * 1024 * 1024]);
    assertThat(huge.statusCode()).isEqualTo(413);
    assertThat(documents(kb)).hasSize(bad.size() + 2);
  }

  private String createKnowledgeBase(String name) throws Exception {
    HttpResponse<Buffer> created = await(client.post(BASE + "/").sendJsonObject(new JsonObject().put("name", name)));
    assertThat(created.statusCode()).isEqualTo(201);
    return created.bodyAsJsonObject().getString("id");
  }

  private HttpResponse<Buffer> upload(String kb, String name, byte[] bytes) throws Exception {
    return await(client.post(BASE + "/" + kb + "/documents").sendMultipartForm(MultipartForm.create()
        .binaryFileUpload("file", name, Buffer.buffer(bytes), "application/octet-stream")));
  }

  private JsonObject finished(String kb, String id) throws Exception {
    HttpRequest<Buffer> get = client.get(BASE + "/" + kb + "/documents/" + id);
    until("document " + id + " finished", INGESTION, () -> {
      String status = await(get.send()).bodyAsJsonObject().getString("status");
      return "ready".equals(status) || "failed".equals(status);
    });
    return await(get.send()).bodyAsJsonObject();
  }

  private JsonArray documents(String kb) throws Exception {
    HttpResponse<Buffer> response = await(client.get(BASE + "/" + kb + "/documents").send());
    Object body = response.bodyAsJson(Object.class);
    // the KB API pages its lists (#16 item 5): {"data": [...]} there, a bare array before
    return body instanceof JsonObject page ? page.getJsonArray("data") : response.bodyAsJsonArray();
  }

  private List<JsonObject> search(String kb, String query) throws Exception {
    HttpResponse<Buffer> response = await(client.post(BASE + "/" + kb + "/search")
        .sendJsonObject(new JsonObject().put("query", query)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    List<JsonObject> hits = new ArrayList<>();
    response.bodyAsJsonObject().getJsonArray("data").forEach(h -> hits.add((JsonObject) h));
    return hits;
  }

  // section path by location of the document's stored chunks (the last location of a section wins)
  private Map<String, String> chunks(String documentId) throws Exception {
    return await(db.database().inTenant(tenant, c -> c.preparedQuery(
            "SELECT section_path, location FROM chunks WHERE document_id = $1 ORDER BY ordinal")
        .execute(Tuple.of(UUID.fromString(documentId)))
        .map(rows -> {
          Map<String, String> out = new LinkedHashMap<>();
          for (Row row : rows) {
            out.put(row.getString(0), row.getString(1));
          }
          return out;
        })));
  }
}
