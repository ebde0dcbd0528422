package ai.deepchat.chat.api;

import ai.deepchat.platform.http.NulText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Request bodies as JSON objects, decoded strictly: invalid UTF-8 is refused rather than replaced with
 * U+FFFD (a silently altered message would be stored and answered as if the user had sent it), and so
 * is U+0000 anywhere in it ({@link NulText}).
 */
public final class StrictJson {

  private StrictJson() {
  }

  public static JsonObject object(Buffer body) {
    if (body == null || body.length() == 0) {
      throw HttpProblem.badRequest("invalid_json", "The request body is empty; send a JSON object.");
    }
    String text;
    try {
      text = utf8(body);
    } catch (CharacterCodingException e) {
      throw HttpProblem.badRequest("invalid_utf8", "The request body is not valid UTF-8.");
    }
    Object parsed;
    try {
      parsed = io.vertx.core.json.Json.decodeValue(text);
    } catch (DecodeException e) {
      throw HttpProblem.badRequest("invalid_json", "The request body is not valid JSON.");
    }
    if (!(parsed instanceof JsonObject obj)) {
      throw HttpProblem.badRequest("invalid_json", "The request body must be a JSON object.");
    }
    String nul = NulText.find(obj);
    if (nul != null) {
      throw HttpProblem.badRequest("invalid_characters", "'" + nul + "' contains a NUL character (\\u0000).");
    }
    return obj;
  }

  /** The text of UTF-8 bytes; invalid sequences fail instead of turning into U+FFFD. */
  public static String utf8(Buffer bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes.getBytes())).toString();
  }
}
