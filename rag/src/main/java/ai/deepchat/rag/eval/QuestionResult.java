package ai.deepchat.rag.eval;

/**
 * How one question fared.
 *
 * @param rank          1-based rank of the first hit from the expected document and section; 0: none
 *                      within {@link RetrievalEvaluator#DEPTH}
 * @param crossLanguage asked in another script than the expected document's title
 * @param documentKnown whether the knowledge base holds a document of that name at all
 * @param topTitle      title and section path of the first hit, to show what came first instead
 * @param answered      retrieval is confident at the run's thresholds: the knowledge base would answer
 * @param cited         answered, and the expected passage is among the passages it would cite
 */
public record QuestionResult(EvalQuestion question, int rank, boolean crossLanguage, boolean documentKnown,
                             String topTitle, String topSection, double millis, boolean answered, boolean cited) {
}
