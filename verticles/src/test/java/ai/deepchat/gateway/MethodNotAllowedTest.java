package ai.deepchat.gateway;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MethodNotAllowedTest {

  @Test
  void templatesMatchTheirPathsSegmentBySegment() {
    assertThat(MethodNotAllowed.matches("/v1/chat/completions", "/v1/chat/completions")).isTrue();
    assertThat(MethodNotAllowed.matches("/v1/chat/completions", "/v1/chat/completions/")).isTrue();
    assertThat(MethodNotAllowed.matches("/v1/chat/completions", "/v1/chat")).isFalse();
    assertThat(MethodNotAllowed.matches("/v1/chat/completions", "/v1/chat/completions/x")).isFalse();
    assertThat(MethodNotAllowed.matches("/v1/models/:model", "/v1/models/deepseek-chat")).isTrue();
    assertThat(MethodNotAllowed.matches("/v1/models/:model", "/v1/models/")).isFalse();
    assertThat(MethodNotAllowed.matches("/v1/models/:model", "/v1/models/a/b")).isFalse();
    assertThat(MethodNotAllowed.matches("/console/*", "/console/faq/1")).isTrue();
    assertThat(MethodNotAllowed.matches("/console/*", "/console")).isTrue();
    assertThat(MethodNotAllowed.matches("/console/*", "/consoles")).isFalse();
    assertThat(MethodNotAllowed.matches("/v1/x.y", "/v1/xzy")).isFalse();
  }
}
