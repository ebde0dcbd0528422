package ai.deepchat.faq;

/**
 * One FAQ answer as a spreadsheet row holds it; {@code enabled} is null when the row leaves it out (a
 * new answer is then enabled, an existing one keeps its state).
 */
record FaqRow(String question, String answer, Boolean enabled) {
}
