package ai.deepchat.platform.nativelib;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one loader's platform names and its error (the bindings' tests load real libraries through it). */
class NativeLibrariesTest {

  @Test
  void platformNamesAreTheSameForEveryBinding() {
    assertThat(NativeLibraries.platform("Linux", "amd64")).isEqualTo("linux-x86_64");
    assertThat(NativeLibraries.platform("Linux", "x86_64")).isEqualTo("linux-x86_64");
    assertThat(NativeLibraries.platform("Linux", "aarch64")).isEqualTo("linux-aarch64");
    assertThat(NativeLibraries.platform("Mac OS X", "aarch64")).isEqualTo("osx-aarch64");
    assertThat(NativeLibraries.platform("Windows 11", "amd64")).isEqualTo("windows-x86_64");
    assertThat(NativeLibraries.platform("SunOS", "sparcv9")).isEqualTo("sunos-sparcv9");
  }

  @Test
  void aMissingLibraryNamesBothPlacesItLooked() {
    assertThatThrownBy(() -> NativeLibraries.load("deepchat_no_such_library", NativeLibrariesTest.class))
        .isInstanceOf(UnsatisfiedLinkError.class)
        .hasMessageContaining("deepchat_no_such_library not found on java.library.path")
        .hasMessageContaining("nor in the jar at " + NativeLibraries.resource("deepchat_no_such_library"));
    // A failed attempt is not remembered: the next call looks again and fails the same way.
    assertThatThrownBy(() -> NativeLibraries.load("deepchat_no_such_library", NativeLibrariesTest.class))
        .isInstanceOf(UnsatisfiedLinkError.class);
  }
}
