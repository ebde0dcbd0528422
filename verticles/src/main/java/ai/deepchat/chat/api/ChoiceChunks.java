package ai.deepchat.chat.api;

/**
 * A streamed completion's opening chunk (the assistant's role) and a choice's finish chunk, written as
 * text after the choice's part of the envelope that the stream encodes once ({@code choicePrefix}: up to
 * and with the choice's index), as its delta chunks are: each was a copy of the envelope, a JSON tree and
 * an encoding per turn (#25). The text is what {@code JsonObject.encode()} wrote, byte for byte
 * ({@code ChoiceChunksTest}).
 */
final class ChoiceChunks {

  private static final String OPENING = ",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
  private static final String FINISH = ",\"delta\":{},\"finish_reason\":";
  private static final String END = "}]}\n\n";

  private ChoiceChunks() {
  }

  /** {@code data: {...,"choices":[{"index":i,"delta":{"role":"assistant","content":""},"finish_reason":null}]}}. */
  static String opening(String choicePrefix) {
    return choicePrefix + OPENING;
  }

  /** The choice's last chunk: an empty delta and its finish reason (null: JSON null). */
  static String finish(String choicePrefix, String finishReason) {
    StringBuilder sb = new StringBuilder(choicePrefix.length() + 64).append(choicePrefix).append(FINISH);
    if (finishReason == null) {
      sb.append("null");
    } else {
      JsonText.quoted(sb, finishReason);
    }
    return sb.append(END).toString();
  }
}
