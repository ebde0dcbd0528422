package ai.deepchat.policy.privacy;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PiiMaskerTest {

  // 11010519491231002X: the standard's sample number (Beijing, 1949-12-31), valid check character X
  private static final String VALID_ID = "11010519491231002X";

  @Test
  void chineseMobileNumbersKeepTheLastFourDigits() {
    assertThat(PiiMasker.mask("请打13812345678联系我")).isEqualTo("请打*******5678联系我");
    assertThat(PiiMasker.mask("call +86 138-1234-5678 now")).isEqualTo("call +** ***-****-5678 now");
    assertThat(PiiMasker.mask("电话：0755-12345678")).isEqualTo("电话：****-****5678");
  }

  @Test
  void numbersThatAreNotMobilesStay() {
    // 12 starts no mobile range; a longer digit run is not a phone number
    assertThat(PiiMasker.mask("code 12812345678")).isEqualTo("code 12812345678");
    assertThat(PiiMasker.mask("ref 138123456789012")).isEqualTo("ref 138123456789012");
  }

  @Test
  void internationalNumbers() {
    assertThat(PiiMasker.mask("US: +1 (415) 555-2671.")).isEqualTo("US: +* (***) ***-2671.");
    assertThat(PiiMasker.mask("UK +44 20 7946 0958")).isEqualTo("UK +** ** **** 0958");
    // too few digits for a phone number
    assertThat(PiiMasker.mask("score +12 34")).isEqualTo("score +12 34");
  }

  @Test
  void emailAddresses() {
    assertThat(PiiMasker.mask("mail zhang.san@example.com.cn please"))
        .isEqualTo("mail z***@example.com.cn please");
    assertThat(PiiMasker.mask("not an address: a@b")).isEqualTo("not an address: a@b");
  }

  @Test
  void idCardNumbersOnlyWithAValidChecksumAndDate() {
    assertThat(PiiMasker.validIdCard(VALID_ID)).isTrue();
    assertThat(PiiMasker.mask("身份证" + VALID_ID + "。")).isEqualTo("身份证**************002X。");
    assertThat(PiiMasker.mask("身份证" + VALID_ID.toLowerCase())).isEqualTo("身份证**************002x");
    // one digit changed: the check character no longer fits
    assertThat(PiiMasker.validIdCard("11010519491231003X")).isFalse();
    // valid check character but 13th month
    assertThat(PiiMasker.validIdCard(withCheck("11010519491331002"))).isFalse();
  }

  @Test
  void bankCardsOnlyWhenLuhnHolds() {
    assertThat(PiiMasker.luhn("4111111111111111")).isTrue();
    assertThat(PiiMasker.mask("card 4111 1111 1111 1111 ok")).isEqualTo("card **** **** **** 1111 ok");
    assertThat(PiiMasker.mask("card 6222021234567890128")).isEqualTo("card ***************0128");
    assertThat(PiiMasker.mask("order 4111111111111112")).isEqualTo("order 4111111111111112");
  }

  @Test
  void severalKindsInOneText() {
    String text = "我是张三，手机13912345678，邮箱 zs@qq.com，身份证" + VALID_ID;
    assertThat(PiiMasker.find(text)).extracting(PiiMasker.Finding::kind).containsExactly(
        PiiMasker.Kind.PHONE, PiiMasker.Kind.EMAIL, PiiMasker.Kind.ID_CARD);
    assertThat(PiiMasker.mask(text)).isEqualTo(
        "我是张三，手机*******5678，邮箱 z***@qq.com，身份证**************002X");
  }

  @Test
  void plainTextIsUntouched() {
    assertThat(PiiMasker.mask("Order 2024 shipped on 12-05, total 99.50")).isEqualTo("Order 2024 shipped on 12-05, total 99.50");
    assertThat(PiiMasker.mask("")).isEmpty();
  }

  /** The cheap test before the patterns never hides a finding: random texts of digits, separators and '@'. */
  @Test
  void textsSkippedByTheDigitCountHoldNothing() {
    java.util.Random random = new java.util.Random(25);
    String alphabet = "0123456789 -+().@ab0123456789";
    int skipped = 0;
    for (int i = 0; i < 50_000; i++) {
      StringBuilder text = new StringBuilder();
      for (int n = random.nextInt(40); n > 0; n--) {
        text.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String t = text.toString();
      if (!PiiMasker.mayHold(t)) {
        skipped++;
        assertThat(PiiMasker.scan(t)).as(t).isEmpty();
      }
    }
    assertThat(skipped).isGreaterThan(1_000);
    assertThat(PiiMasker.mayHold("+1 415 555 26")).as("8 digits").isTrue();
    assertThat(PiiMasker.mayHold("What are your opening hours? (1234567)")).isFalse();
  }

  private static String withCheck(String first17) {
    int[] w = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += (first17.charAt(i) - '0') * w[i];
    }
    return first17 + "10X98765432".charAt(sum % 11);
  }
}
