package ai.deepchat.platform.security;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Hand-built JWTs for tests of token checks (scenario 23): anything a library would refuse to sign,
 * such as {@code alg: none}, a header naming another algorithm than the signature's, attacker keys
 * offered through {@code jwk}/{@code jku}, or claims of the wrong type.
 */
public final class JwtForgery {

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private JwtForgery() {
  }

  /** A named forged token, for assertion messages. */
  public record Forged(String name, String token) {
  }

  public static String hs256(String secret, JsonObject claims) {
    return hmac(new JsonObject().put("alg", "HS256").put("typ", "JWT"), claims, "HmacSHA256",
        secret.getBytes(StandardCharsets.UTF_8));
  }

  /** Header and claims signed with HMAC ({@code macAlgorithm}: HmacSHA256, HmacSHA512), whatever the header says. */
  public static String hmac(JsonObject header, JsonObject claims, String macAlgorithm, byte[] key) {
    String signingInput = encode(header) + "." + encode(claims);
    try {
      Mac mac = Mac.getInstance(macAlgorithm);
      mac.init(new SecretKeySpec(key, macAlgorithm));
      return signingInput + "." + B64.encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** RS256 with the given key pair (the attacker's), the header as given. */
  public static String rs256(JsonObject header, JsonObject claims, KeyPair keys) {
    String signingInput = encode(header) + "." + encode(claims);
    try {
      Signature sig = Signature.getInstance("SHA256withRSA");
      sig.initSign(keys.getPrivate());
      sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64.encodeToString(sig.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Every forgery of scenario 23 against a service signing HS256 with {@code secret}. {@code valid}: claims
   * the service accepts (iss, aud, exp in the future, its own claims); each forgery changes one thing.
   */
  public static List<Forged> scenario23(String secret, JsonObject valid) {
    long now = System.currentTimeMillis() / 1000;
    byte[] key = secret.getBytes(StandardCharsets.UTF_8);
    JsonObject hs256 = new JsonObject().put("alg", "HS256").put("typ", "JWT");
    KeyPair attacker = rsaKeys();
    List<Forged> all = new ArrayList<>();
    for (String none : List.of("none", "None", "NONE", "nOnE")) {
      all.add(new Forged("alg " + none, encode(new JsonObject().put("alg", none).put("typ", "JWT")) + "."
          + encode(valid) + "."));
    }
    all.add(new Forged("alg none with the real signature", encode(new JsonObject().put("alg", "none")) + "."
        + encode(valid) + "." + hs256(secret, valid).split("\\.")[2]));
    // key confusion: the header names RS256 but the signature is an HMAC with the service's secret, and
    // the other way round: an RS256 token of the attacker's key
    all.add(new Forged("RS256 header, HMAC signature", hmac(new JsonObject().put("alg", "RS256").put("typ", "JWT"),
        valid, "HmacSHA256", key)));
    all.add(new Forged("HS512 header and signature", hmac(new JsonObject().put("alg", "HS512").put("typ", "JWT"),
        valid, "HmacSHA512", key)));
    all.add(new Forged("RS256 with the attacker's key", rs256(new JsonObject().put("alg", "RS256").put("typ", "JWT"),
        valid, attacker)));
    all.add(new Forged("HS256 keyed with the attacker's RSA public key", hmac(hs256, valid, "HmacSHA256",
        attacker.getPublic().getEncoded())));
    // keys offered by the token itself (never fetched, never trusted); jku names loopback only
    all.add(new Forged("jwk header with the attacker's key", rs256(new JsonObject().put("alg", "RS256").put("typ", "JWT")
        .put("jwk", jwk((RSAPublicKey) attacker.getPublic())), valid, attacker)));
    all.add(new Forged("jku header, attacker's HMAC secret", hmac(hs256.copy().put("jku", "http://127.0.0.1:9/jwks.json")
        .put("kid", "attacker"), valid, "HmacSHA256", "attacker-secret-attacker-secret!".getBytes(StandardCharsets.UTF_8))));
    all.add(new Forged("jku header with the attacker's RSA key", rs256(new JsonObject().put("alg", "RS256")
        .put("jku", "http://127.0.0.1:9/jwks.json"), valid, attacker)));
    all.add(new Forged("wrong HMAC secret", hmac(hs256, valid, "HmacSHA256",
        "another-secret-another-secret-12".getBytes(StandardCharsets.UTF_8))));
    all.add(new Forged("expired", hs256(secret, valid.copy().put("exp", now - 3600))));
    all.add(new Forged("not yet valid (nbf)", hs256(secret, valid.copy().put("nbf", now + 3600))));
    JsonObject noExp = valid.copy();
    noExp.remove("exp");
    all.add(new Forged("no exp", hs256(secret, noExp)));
    all.add(new Forged("exp as a string", hs256(secret, valid.copy().put("exp", String.valueOf(now + 3600)))));
    all.add(new Forged("wrong aud", hs256(secret, valid.copy().put("aud", "someone-else"))));
    JsonObject noAud = valid.copy();
    noAud.remove("aud");
    all.add(new Forged("no aud", hs256(secret, noAud)));
    all.add(new Forged("wrong iss", hs256(secret, valid.copy().put("iss", "someone-else"))));
    JsonObject noIss = valid.copy();
    noIss.remove("iss");
    all.add(new Forged("no iss", hs256(secret, noIss)));
    all.add(new Forged("tampered payload", encode(hs256) + "." + encode(valid.copy().put("x", 1)) + "."
        + hs256(secret, valid).split("\\.")[2]));
    all.add(new Forged("garbage", "not.a.jwt"));
    return all;
  }

  private static String encode(JsonObject json) {
    return B64.encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject jwk(RSAPublicKey key) {
    return new JsonObject().put("kty", "RSA").put("e", unsigned(key.getPublicExponent()))
        .put("n", unsigned(key.getModulus()));
  }

  private static String unsigned(BigInteger value) {
    byte[] bytes = value.toByteArray();
    if (bytes.length > 1 && bytes[0] == 0) {
      bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
    }
    return B64.encodeToString(bytes);
  }

  private static KeyPair rsaKeys() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048);
      return gen.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
