package ai.deepchat.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's byte-level alphabet, as byte-level BPE vocabularies (DeepSeek's among them) write their
 * pieces: each byte stands for itself when printable, else for a character from U+0100 on. Reading a
 * piece back gives the token's exact bytes, which may hold part of a UTF-8 character.
 */
public final class ByteLevel {

  /** bytes_to_unicode inverted: the byte of each stand-in character, -1 for other characters. */
  private static final int[] BYTE_OF = unicodeToByte();

  private ByteLevel() {
  }

  /** The bytes of a byte-level piece, or null when a character of it is outside the alphabet. */
  public static byte[] decode(String piece) {
    byte[] out = new byte[piece.length()];
    for (int i = 0; i < piece.length(); i++) {
      char c = piece.charAt(i);
      if (c >= BYTE_OF.length || BYTE_OF[c] < 0) {
        return null;
      }
      out[i] = (byte) BYTE_OF[c];
    }
    return out;
  }

  private static int[] unicodeToByte() {
    int[] byteOf = new int[512];
    Arrays.fill(byteOf, -1);
    int next = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      byteOf[printable ? b : 256 + next++] = b;
    }
    return byteOf;
  }
}
