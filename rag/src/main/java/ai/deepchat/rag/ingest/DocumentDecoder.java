package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Turns uploaded bytes into text, refusing what is not a text document. */
public final class DocumentDecoder {

  private DocumentDecoder() {
  }

  /**
   * Strict UTF-8 (a leading BOM is dropped): binary data, invalid sequences and blank documents are
   * refused with {@link RagError#INVALID_INPUT}.
   */
  public static String decode(String sourceName, byte[] bytes) {
    if (bytes.length == 0) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is empty");
    }
    if (looksBinary(bytes)) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is binary data, not text");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is not valid UTF-8 text");
    }
    if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
      text = text.substring(1);
    }
    if (text.isBlank()) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " has no text");
    }
    return text;
  }

  // NUL bytes never occur in text (and PostgreSQL text cannot hold them: one anywhere would fail the
  // ingestion), so the whole document is searched for them; other control characters only rarely, so
  // more than 1% of the first 64 KiB means binary.
  static boolean looksBinary(byte[] bytes) {
    for (byte b : bytes) {
      if (b == 0) {
        return true;
      }
    }
    int sample = Math.min(bytes.length, 64 * 1024);
    int control = 0;
    for (int i = 0; i < sample; i++) {
      int b = bytes[i] & 0xff;
      if (b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f') {
        control++;
      }
    }
    return control * 100 > sample;
  }
}
