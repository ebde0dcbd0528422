package ai.deepchat.rag;

import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.platform.embed.RecentVectors;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.rag.faiss.FaissIndex;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.platform.testing.Await.failure;
import static ai.deepchat.rag.RagTestSupport.ingest;
import static ai.deepchat.rag.RagTestSupport.resource;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Ingestion and hybrid retrieval end to end: real PostgreSQL (row-level security), real FAISS, the
 * real bge-small-zh model, over a small bilingual corpus (src/test/resources/corpus).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RagIntegrationTest {

  private RagFixture f;
  private UUID guideId;

  @BeforeAll
  void ingestCorpus() throws Exception {
    f = new RagFixture("rag-it", "support", "internal");
    KnowledgeBaseService service = f.rag.knowledgeBases();
    DocumentStatus guide = ingest(service, f.tenantA, f.kbA, "server-guide.md", resource("server-guide.md"));
    guideId = guide.id();
    ingest(service, f.tenantA, f.kbA, "faq-zh.md", resource("faq-zh.md"));
    ingest(service, f.tenantB, f.kbB, "tenant-b-secret.md", resource("tenant-b-secret.md"));
  }

  @AfterAll
  void close() throws Exception {
    f.close();
  }

  @Test
  @Order(1)
  void documentsAreReadyWithSectionPathsAndVersionBumps() throws Exception {
    List<DocumentStatus> docs = await(f.rag.knowledgeBases().listDocuments(f.tenantA, f.kbA));
    assertThat(docs).extracting(DocumentStatus::sourceName).containsExactly("faq-zh.md", "server-guide.md");
    assertThat(docs).allSatisfy(d -> {
      assertThat(d.status()).isEqualTo("ready");
      assertThat(d.progress()).isEqualTo(1.0);
      assertThat(d.chunkCount()).isPositive();
    });
    assertThat(docs).extracting(DocumentStatus::title).containsExactly("星云云盘常见问题", "Orbit Server Guide");
    assertThat(sectionPaths(f.kbA)).contains("Orbit Server Guide > Installation > Linux",
        "Orbit Server Guide > Configuration", "星云云盘常见问题 > 计费 > 退款政策");
    assertThat(await(f.rag.knowledgeBases().knowledgeBase(f.tenantA, f.kbA)).version()).isEqualTo(2);
  }

  @ParameterizedTest(name = "{0}")
  @Order(2)
  @CsvSource(delimiter = '|', value = {
      "How do I set the relay up on an Ubuntu machine? | Installation > Linux",
      "which TCP port do clients use and how many can connect at once | Configuration",
      "my disk died, how do I get my queues back from a copy | Backup and Restore",
      "The service quits immediately after launch, what should I check? | Troubleshooting",
      "我忘了登录密码，怎么重新设置？ | 账户 > 重置密码",
      "买了会员不满意可以把钱要回来吗 | 计费 > 退款政策",
      "怎样把文件列表下载成表格 | 数据 > 数据导出",
      "公司报销需要的发票在哪里申请 | 计费 > 发票",
  })
  void paraphrasedQuestionsFindTheirSection(String question, String expectedSection) throws Exception {
    RetrieveReply reply = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, question, 3));
    assertThat(reply.hits()).isNotEmpty();
    assertThat(reply.hits().get(0).sectionPath()).as("top hit for %s: %s", question, reply.hits())
        .endsWith(expectedSection);
    assertThat(reply.knowledgeBaseVersion()).isPositive();
  }

  @Test
  @Order(3)
  void hitsCarryScoresDocumentAndText() throws Exception {
    RetrieveReply reply = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, "default value of the max_clients setting", 5));
    RetrievedChunk top = reply.hits().get(0);
    assertThat(top.sectionPath()).endsWith("Configuration");
    assertThat(top.text()).contains("| listen_port | 7400 |");
    assertThat(top.documentTitle()).isEqualTo("Orbit Server Guide");
    assertThat(top.documentId()).isEqualTo(guideId.toString());
    assertThat(top.lexicalScore()).isPositive();
    assertThat(top.vectorScore()).isPositive();
    assertThat(top.fusedScore()).isGreaterThanOrEqualTo(reply.hits().get(1).fusedScore());
  }

  @Test
  @Order(3)
  void aRepeatedQuestionIsEmbeddedOnceWithTheSameHits() throws Exception {
    String question = "how many clients can connect to the relay at once";
    RetrieveReply first = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, question, 5));
    long hits = RecentVectors.SHARED.hits();
    RetrieveReply again = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, question, 5));
    assertThat(RecentVectors.SHARED.hits() - hits).as("query vectors taken from the recent ones").isPositive();
    assertThat(again.hits()).isEqualTo(first.hits());
  }

  @Test
  @Order(4)
  void otherTenantsKnowledgeBaseIsNotFoundAndItsChunksNeverLeak() throws Exception {
    Throwable crossTenant = failure(f.rag.retriever().retrieve(f.tenantA, f.kbB, "vault combination", 5));
    assertThat(RagException.errorOf(crossTenant)).isEqualTo(RagError.NOT_FOUND);
    assertThat(RagException.errorOf(failure(f.rag.retriever().retrieve(f.tenantB, f.kbA, "install", 5))))
        .isEqualTo(RagError.NOT_FOUND);
    assertThat(RagException.errorOf(failure(f.rag.knowledgeBases().upload(f.tenantA, f.kbB, "x.md",
        Buffer.buffer("# hi"))))).isEqualTo(RagError.NOT_FOUND);
    RetrieveReply own = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, "CANARY-ZEBRA-4471 vault 忘记密码", 50));
    assertThat(own.hits()).noneSatisfy(h -> assertThat(h.text()).contains("CANARY"));
    RetrieveReply b = await(f.rag.retriever().retrieve(f.tenantB, f.kbB, "vault combination", 5));
    assertThat(b.hits()).singleElement().satisfies(h -> assertThat(h.text()).contains("CANARY"));
  }

  @Test
  @Order(5)
  void badUploadsGetClearErrors() throws Exception {
    KnowledgeBaseService service = f.rag.knowledgeBases();
    assertThat(errorOf(service.upload(f.tenantA, f.kbA, "empty.md", Buffer.buffer())))
        .isEqualTo(RagError.INVALID_INPUT);
    byte[] big = new byte[(int) RagConfig.DEFAULT_MAX_UPLOAD_BYTES + 1];
    java.util.Arrays.fill(big, (byte) 'a');
    Throwable tooLarge = failure(service.upload(f.tenantA, f.kbA, "big.md", Buffer.buffer(big)));
    assertThat(RagException.errorOf(tooLarge)).isEqualTo(RagError.TOO_LARGE);
    assertThat(tooLarge).hasMessageContaining("upload limit");
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    assertThat(failure(service.upload(f.tenantA, f.kbA, "image.md", Buffer.buffer(png))))
        .hasMessageContaining("binary");
    assertThat(failure(service.upload(f.tenantA, f.kbA, "latin1.md",
        Buffer.buffer("caf\u00e9".getBytes(StandardCharsets.ISO_8859_1))))).hasMessageContaining("UTF-8");
    assertThat(errorOf(service.upload(f.tenantA, f.kbA, "tool.exe", Buffer.buffer("MZ"))))
        .isEqualTo(RagError.UNSUPPORTED_TYPE);
    assertThat(errorOf(service.upload(f.tenantA, UUID.randomUUID(), "a.md", Buffer.buffer("# a"))))
        .isEqualTo(RagError.NOT_FOUND);
    assertThat(errorOf(f.rag.retriever().retrieve(f.tenantA, f.kbA, "  ", 5))).isEqualTo(RagError.INVALID_INPUT);
    // nothing of the refused uploads was stored
    assertThat(await(service.listDocuments(f.tenantA, f.kbA))).hasSize(2);
  }

  @Test
  @Order(6)
  void reuploadReplacesChunksAndSameContentIsANoOp() throws Exception {
    KnowledgeBaseService service = f.rag.knowledgeBases();
    long before = await(service.knowledgeBase(f.tenantA, f.kbA)).version();
    DocumentStatus v1 = ingest(service, f.tenantA, f.kbA, "notes.txt",
        Buffer.buffer("The quartermaster keeps the spare antenna in locker nineteen."));
    DocumentStatus same = ingest(service, f.tenantA, f.kbA, "notes.txt",
        Buffer.buffer("The quartermaster keeps the spare antenna in locker nineteen."));
    assertThat(same.id()).isEqualTo(v1.id());
    assertThat(await(service.knowledgeBase(f.tenantA, f.kbA)).version()).isEqualTo(before + 1);
    DocumentStatus v2 = ingest(service, f.tenantA, f.kbA, "notes.txt",
        Buffer.buffer("The spare antenna moved to the rooftop cabinet."));
    assertThat(v2.id()).isEqualTo(v1.id());
    assertThat(v2.status()).isEqualTo("ready");
    assertThat(chunkTexts(v1.id())).containsExactly("The spare antenna moved to the rooftop cabinet.");
    RetrieveReply reply = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, "where is the spare antenna", 10));
    assertThat(reply.hits()).noneSatisfy(h -> assertThat(h.text()).contains("locker nineteen"));
    assertThat(reply.hits().get(0).text()).contains("rooftop cabinet");
    assertThat(reply.knowledgeBaseVersion()).isEqualTo(before + 2);
  }

  @Test
  @Order(7)
  void deletingADocumentRemovesItFromBothSearches() throws Exception {
    long indexedBefore = indexedVectors();
    int guideChunks = chunkTexts(guideId).size();
    await(f.rag.knowledgeBases().deleteDocument(f.tenantA, f.kbA, guideId));
    assertThat(chunkTexts(guideId)).isEmpty();
    assertThat(indexedVectors()).isEqualTo(indexedBefore - guideChunks);
    RetrieveReply reply = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, "orbit-server systemctl listen_port", 50));
    assertThat(reply.hits()).noneSatisfy(h -> assertThat(h.documentId()).isEqualTo(guideId.toString()));
    assertThat(reply.hits()).allSatisfy(h -> assertThat(h.lexicalScore()).isZero());
    assertThat(errorOf(f.rag.knowledgeBases().deleteDocument(f.tenantA, f.kbA, guideId)))
        .isEqualTo(RagError.NOT_FOUND);
    assertThat(errorOf(f.rag.knowledgeBases().deleteDocument(f.tenantB, f.kbA, UUID.randomUUID())))
        .isEqualTo(RagError.NOT_FOUND);
  }

  @Test
  @Order(8)
  void restartReloadsTheIndexFromDisk() throws Exception {
    Path file = f.rag.indexFile(f.tenantA, f.kbA, EmbeddingModels.BGE_SMALL_ZH);
    long written = Files.getLastModifiedTime(file).toMillis();
    byte[] bytes = Files.readAllBytes(file);
    f.restart();
    RetrieveReply reply = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, "申请退款多久能到账", 3));
    assertThat(reply.hits().get(0).sectionPath()).endsWith("退款政策");
    assertThat(reply.hits().get(0).vectorScore()).isPositive();
    assertThat(Files.getLastModifiedTime(file).toMillis()).isEqualTo(written);
    assertThat(Files.readAllBytes(file)).isEqualTo(bytes);
  }

  @Test
  @Order(9)
  void corruptIndexFileIsRebuiltFromTheDatabase() throws Exception {
    Path file = f.rag.indexFile(f.tenantA, f.kbA, EmbeddingModels.BGE_SMALL_ZH);
    await(f.rag.close());
    try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
      raw.seek(raw.length() / 2);
      raw.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
      raw.setLength(raw.length() - 100);
    }
    f.rag = Rag.create(f.vertx, f.db.database(), RagConfig.defaults(f.dataDir));
    RetrieveReply reply = await(f.rag.retriever().retrieve(f.tenantA, f.kbA, "忘记密码怎么办", 3));
    assertThat(reply.hits().get(0).sectionPath()).endsWith("重置密码");
    assertThat(reply.hits().get(0).vectorScore()).isPositive();
    assertThat(indexedVectors()).isEqualTo(chunkCount(f.kbA));

    // and a missing file too
    await(f.rag.close());
    Files.delete(file);
    f.rag = Rag.create(f.vertx, f.db.database(), RagConfig.defaults(f.dataDir));
    assertThat(await(f.rag.retriever().retrieve(f.tenantA, f.kbA, "退款", 3)).hits()).isNotEmpty();
    assertThat(Files.exists(file)).isTrue();
  }

  @Test
  @Order(10)
  void largeUploadShowsProgressWhileIngesting() throws Exception {
    StringBuilder md = new StringBuilder("# Big manual\n\n");
    for (int i = 0; i < 40; i++) {
      md.append("## Part ").append(i).append("\n\n")
          .append("Paragraph ").append(i).append(" describes step ").append(i)
          .append(" of the maintenance procedure in some detail. ".repeat(3)).append("\n\n");
    }
    Upload upload = await(f.rag.knowledgeBases().upload(f.tenantA, f.kbA, "big-manual.md",
        Buffer.buffer(md.toString())));
    assertThat(upload.accepted().status()).isEqualTo("pending");
    AtomicBoolean sawProgress = new AtomicBoolean();
    until("the ingestion completed", RagTestSupport.INGESTION, () -> {
      DocumentStatus now = await(f.rag.knowledgeBases().document(f.tenantA, f.kbA, upload.accepted().id()));
      if ("processing".equals(now.status()) && now.progress() > 0 && now.progress() < 1) {
        sawProgress.set(true);
      }
      return upload.completion().isComplete();
    });
    assertThat(sawProgress).isTrue();
    DocumentStatus done = await(upload.completion(), RagTestSupport.INGESTION);
    assertThat(done.status()).isEqualTo("ready");
    assertThat(done.chunkCount()).isEqualTo(40);
  }

  private static RagError errorOf(io.vertx.core.Future<?> future) throws Exception {
    return RagException.errorOf(failure(future));
  }

  private long indexedVectors() {
    try (FaissIndex index = FaissIndex.read(f.rag.indexFile(f.tenantA, f.kbA, EmbeddingModels.BGE_SMALL_ZH))) {
      return index.ntotal();
    }
  }

  private long chunkCount(UUID kb) throws Exception {
    try (Connection c = f.db.ownerJdbc();
         PreparedStatement st = c.prepareStatement("SELECT count(*) FROM chunks WHERE knowledge_base_id = ?")) {
      st.setObject(1, kb);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private List<String> sectionPaths(UUID kb) throws Exception {
    return strings("SELECT section_path FROM chunks WHERE knowledge_base_id = ? ORDER BY id", kb);
  }

  private List<String> chunkTexts(UUID document) throws Exception {
    return strings("SELECT text FROM chunks WHERE document_id = ? ORDER BY ordinal", document);
  }

  private List<String> strings(String sql, UUID param) throws Exception {
    try (Connection c = f.db.ownerJdbc(); PreparedStatement st = c.prepareStatement(sql)) {
      st.setObject(1, param);
      try (ResultSet rs = st.executeQuery()) {
        List<String> out = new java.util.ArrayList<>();
        while (rs.next()) {
          out.add(rs.getString(1));
        }
        return out;
      }
    }
  }
}
