package ai.deepchat.channel.wechat;

import java.util.UUID;

/**
 * One tenant's WeChat Official Account or WeCom application: {@code appId} is the AppID or the CorpID
 * (the receive id of the crypto), {@code agentId} the WeCom application's AgentId (null for WeChat).
 * The secret, token and EncodingAESKey never leave the node (the API says only whether they are set).
 */
record ChannelConfig(UUID id, UUID tenantId, String kind, String name, String appId, String agentId,
                     String appSecret, String token, String encodingAesKey, String mode, String welcomeMessage,
                     boolean enabled) {

  static final String WECHAT = "wechat";
  static final String WECOM = "wecom";

  /** Without the secrets: the record's own would print them into any log line or message naming the channel. */
  @Override
  public String toString() {
    return "ChannelConfig[id=" + id + ", tenantId=" + tenantId + ", kind=" + kind + ", name=" + name + ", appId="
        + appId + ", mode=" + mode + "]";
  }

  boolean wecom() {
    return WECOM.equals(kind);
  }

  ChannelCrypto crypto() {
    return new ChannelCrypto(token, encodingAesKey, appId);
  }
}
