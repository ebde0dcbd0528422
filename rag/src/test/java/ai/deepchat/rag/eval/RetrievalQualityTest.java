package ai.deepchat.rag.eval;

import ai.deepchat.rag.RagConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retrieval quality on the project's bilingual evaluation set, through the real pipeline (PostgreSQL,
 * FAISS, bge-small-zh with bge-small-en for English chunks, the bilingual query bridge). The floors sit a
 * little under the measured figures (docs/performance.md), so a
 * change that makes retrieval worse fails here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RetrievalQualityTest {

  private EvalHarness harness;
  private EvalReport report;
  private EvalReport heldOut;

  @BeforeAll
  void evaluate() throws Exception {
    harness = new EvalHarness(RagConfig::defaults);
    UUID kb = harness.knowledgeBase(null);
    report = harness.evaluate(kb, EvalHarness.questions());
    heldOut = harness.evaluate(kb, EvalHarness.heldOut());
    System.out.println("overall " + report.overall() + "\nsame-language " + report.sameLanguage()
        + "\ncross-language " + report.crossLanguage() + "\nheld-out cross-language " + heldOut.crossLanguage());
    report.results().stream().filter(r -> r.rank() != 1).forEach(r -> System.out.println(
        "rank " + r.rank() + (r.crossLanguage() ? " x " : "   ") + r.question().question() + " -> "
            + r.question().document() + " / " + r.question().section() + "; first: " + r.topSection()));
  }

  @AfterAll
  void close() throws Exception {
    harness.close();
  }

  @Test
  void theSetIsBilingualWithAThirdCrossLanguage() {
    assertThat(report.results()).hasSizeGreaterThanOrEqualTo(60).allMatch(QuestionResult::documentKnown);
    assertThat(EvalHarness.documents()).hasSizeGreaterThanOrEqualTo(8);
    assertThat(report.crossLanguage().questions() * 3).isGreaterThanOrEqualTo(report.results().size());
  }

  @Test
  void overallFiguresStayAboveTheirFloors() {
    // measured 2026-12-06: recall@5 0.984, MRR 0.862 with the same-language lexical hits weighted 0.5
    // (0.847 at 1; 0.816 before the blend and the per-language lists; 0.758 without English vectors;
    // 0.553 before the query bridge). The MRR floor is issue #15's target.
    assertThat(report.overall().recallAt5()).isGreaterThanOrEqualTo(0.95);
    assertThat(report.overall().mrr()).isGreaterThanOrEqualTo(0.85);
    assertThat(report.sameLanguage().recallAt5()).isGreaterThanOrEqualTo(0.90);
  }

  @Test
  void heldOutCrossLanguageQuestionsAreFoundToo() {
    assertThat(heldOut.crossLanguage().questions()).isEqualTo(heldOut.results().size());
    // measured: recall@5 0.875, MRR 0.788 with the same-language lexical hits weighted 0.5 (0.755 at 1;
    // 0.813 and 0.700 before the blend, per-language lists and margins; 0.813 and 0.604 without English
    // vectors; written after the lexicon was frozen: the honest figure)
    assertThat(heldOut.crossLanguage().recallAt5()).isGreaterThanOrEqualTo(0.80);
    assertThat(heldOut.crossLanguage().mrr()).isGreaterThanOrEqualTo(0.77);
  }

  @Test
  void crossLanguageFiguresStayAboveTheirFloors() {
    // measured: recall@5 1.000, MRR 0.826 with the same-language lexical hits weighted 0.5 (0.958 and
    // 0.799 at 1; 0.958 and 0.761 before the blend; 1.000 and 0.722 without English vectors; 0.125 and
    // 0.108 before the query bridge)
    assertThat(report.crossLanguage().recallAt5()).isGreaterThanOrEqualTo(0.90);
    assertThat(report.crossLanguage().mrr()).isGreaterThanOrEqualTo(0.80);
  }
}
