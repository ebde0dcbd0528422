package ai.deepchat.canary.api;

import ai.deepchat.canary.registry.CanaryException;
import ai.deepchat.platform.http.NulText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** Strict reading of request bodies and fields: invalid input is a 400 naming the problem, never a guess. */
final class JsonBodies {

  private JsonBodies() {
  }

  /** The body as a JSON object; an empty body is an empty object. */
  static JsonObject object(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      return new JsonObject();
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body.getBytes())).toString();
    } catch (CharacterCodingException e) {
      throw CanaryException.invalid("the body is not valid UTF-8");
    }
    try {
      Object parsed = io.vertx.core.json.Json.decodeValue(text);
      if (!(parsed instanceof JsonObject o)) {
        throw CanaryException.invalid("the body must be a JSON object");
      }
      String nul = NulText.find(o);
      if (nul != null) {
        throw CanaryException.invalid(nul + " contains a NUL character (\\u0000)");
      }
      return o;
    } catch (DecodeException e) {
      throw CanaryException.invalid("the body is not valid JSON");
    }
  }

  static String string(JsonObject o, String key, int max) {
    Object v = o.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.length() > max) {
      throw CanaryException.invalid(key + " must be a string of at most " + max + " characters");
    }
    return s;
  }

  static JsonObject object(JsonObject o, String key) {
    Object v = o.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonObject j)) {
      throw CanaryException.invalid(key + " must be an object");
    }
    return j;
  }

  static JsonArray array(JsonObject o, String key) {
    Object v = o.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray a)) {
      throw CanaryException.invalid(key + " must be an array");
    }
    return a;
  }

  static UUID uuid(JsonObject o, String key) {
    String s = string(o, key, 36);
    if (s == null) {
      return null;
    }
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw CanaryException.invalid(key + " must be a UUID");
    }
  }

  /** A percentage 0..100 with at most two decimals, in basis points; null when absent. */
  static Integer basisPoints(JsonObject o, String key) {
    Object v = o.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Number n)) {
      throw CanaryException.invalid(key + " must be a number from 0 to 100");
    }
    double bp = n.doubleValue() * 100;
    long rounded = Math.round(bp);
    if (Double.isNaN(bp) || rounded < 0 || rounded > 10_000 || Math.abs(bp - rounded) > 1e-6) {
      throw CanaryException.invalid(key + " must be a number from 0 to 100 with at most two decimals");
    }
    return (int) rounded;
  }

  /** A path id; one that is not a UUID cannot name anything, so it is simply not found. */
  static UUID pathId(RoutingContext ctx, String what) {
    try {
      return UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw CanaryException.notFound(what);
    }
  }
}
