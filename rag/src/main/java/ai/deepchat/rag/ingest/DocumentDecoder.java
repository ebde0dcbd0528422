package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Turns uploaded bytes into text, refusing what is not a text document. */
final class DocumentDecoder {

  private DocumentDecoder() {
  }

  /**
   * Strict UTF-8 (a leading BOM is dropped): binary data, invalid sequences and blank documents are
   * refused with {@link RagError#INVALID_INPUT}.
   */
  public static String decode(String sourceName, byte[] bytes) {
    return decode(sourceName, bytes, SourceFormat.TEXT);
  }

  /**
   * As {@link #decode(String, byte[])}, and what spreadsheets export besides: UTF-16 with a byte-order
   * mark (Excel's "Unicode text") for any text format, and for CSV strict GB18030, the encoding Excel
   * writes CSV in on Chinese Windows.
   */
  public static String decode(String sourceName, byte[] bytes, SourceFormat format) {
    if (bytes.length == 0) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is empty");
    }
    boolean utf16 = bytes.length >= 2 && ((bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xFE)
        || (bytes[0] == (byte) 0xFE && bytes[1] == (byte) 0xFF));
    if (!utf16 && looksBinary(bytes)) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is binary data, not text");
    }
    String text;
    try {
      text = strict(utf16 ? StandardCharsets.UTF_16 : StandardCharsets.UTF_8, bytes);
    } catch (CharacterCodingException e) {
      text = format == SourceFormat.CSV ? gb18030(bytes) : null;
      if (text == null) {
        throw new RagException(RagError.INVALID_INPUT, sourceName + " is not valid UTF-8 text");
      }
    }
    if (text.indexOf('\0') >= 0) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " is binary data, not text");
    }
    if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
      text = text.substring(1);
    }
    if (text.isBlank()) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " has no text");
    }
    return text;
  }

  private static String strict(Charset charset, byte[] bytes) throws CharacterCodingException {
    return charset.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }

  private static String gb18030(byte[] bytes) {
    try {
      return strict(Charset.forName("GB18030"), bytes);
    } catch (CharacterCodingException e) {
      return null;
    }
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
