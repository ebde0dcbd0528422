package ai.deepchat.channel.wechat;

import me.chanjar.weixin.common.util.crypto.PKCS7Encoder;
import me.chanjar.weixin.common.util.crypto.SHA1;
import me.chanjar.weixin.common.util.crypto.WxCryptUtil;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;

/**
 * WeChat's message crypto for one account (AppID, or a WeCom CorpID, as the receive id), on WxJava's
 * {@link WxCryptUtil}: its key from EncodingAESKey, AES-256-CBC with PKCS#7 to 32 bytes, the
 * random/length/receive-id framing, the SHA-1 signatures. Two things are added: WxJava's decryption does
 * not compare the framing's receive id with the account's (WeChat's own samples do), and signatures are
 * compared in constant time.
 */
final class ChannelCrypto extends WxCryptUtil {

  /** A push or echo string that failed a check: answered 403, nothing else done. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  /** {@code encodingAesKey}: null for a plaintext-only account (then only signatures work). */
  ChannelCrypto(String token, String encodingAesKey, String receiveId) {
    super(token, encodingAesKey == null ? "A".repeat(43) : encodingAesKey, receiveId);
    if (encodingAesKey == null) {
      this.aesKey = null;
    }
  }

  /** The plain signature WeChat adds to every request: SHA-1 of the sorted token, timestamp and nonce. */
  void checkSignature(String signature, String timestamp, String nonce) {
    checkSha1(signature, token, timestamp, nonce);
  }

  /** The message signature over the token, timestamp, nonce and ciphertext (safe mode, WeCom). */
  void checkMessageSignature(String msgSignature, String timestamp, String nonce, String encrypted) {
    checkSha1(msgSignature, token, timestamp, nonce, encrypted);
  }

  private static void checkSha1(String given, String... parts) {
    for (String p : parts) {
      if (p == null) {
        throw new Refused("signature parameters missing");
      }
    }
    if (given == null || !MessageDigest.isEqual(SHA1.gen(parts).getBytes(StandardCharsets.US_ASCII),
        given.getBytes(StandardCharsets.US_ASCII))) {
      throw new Refused("signature does not match");
    }
  }

  /** Decrypts WeChat's framing and checks that it names this account. */
  @Override
  public String decrypt(String cipherText) {
    if (aesKey == null) {
      throw new Refused("this channel has no EncodingAESKey");
    }
    byte[] plain;
    try {
      Cipher cipher = Cipher.getInstance("AES/CBC/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(aesKey, "AES"),
          new IvParameterSpec(Arrays.copyOfRange(aesKey, 0, 16)));
      plain = PKCS7Encoder.decode(cipher.doFinal(Base64.getMimeDecoder().decode(cipherText)));
    } catch (GeneralSecurityException | IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      throw new Refused("message cannot be decrypted");
    }
    // 16 random bytes, a 4-byte big-endian length, the message, the receive id
    if (plain.length < 20) {
      throw new Refused("message framing is too short");
    }
    int length = ByteBuffer.wrap(plain, 16, 4).getInt();
    if (length < 0 || length > plain.length - 20) {
      throw new Refused("message framing has a bad length");
    }
    String receiveId = new String(plain, 20 + length, plain.length - 20 - length, StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(receiveId.getBytes(StandardCharsets.UTF_8),
        appidOrCorpid.getBytes(StandardCharsets.UTF_8))) {
      throw new Refused("message is for another account");
    }
    return new String(plain, 20, length, StandardCharsets.UTF_8);
  }

  /** Encrypted reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce) around {@code plainXml}. */
  String seal(String plainXml) {
    return encrypt(plainXml);
  }
}
