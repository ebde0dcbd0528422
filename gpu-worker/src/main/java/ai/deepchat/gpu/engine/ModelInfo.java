package ai.deepchat.gpu.engine;

/**
 * What the loaded checkpoint is.
 *
 * @param maxContext tokens per sequence the engine accepts (options and model limit combined)
 * @param bosTokenId -1 when the config names none
 * @param weightBytes host memory held by the weights
 */
public record ModelInfo(String architecture, int vocabSize, int maxContext, int bosTokenId, int[] eosTokenIds,
    int hiddenSize, int layers, int heads, int kvHeads, int maxSequences, long weightBytes) {

  public ModelInfo {
    eosTokenIds = eosTokenIds.clone();
  }

  @Override
  public int[] eosTokenIds() {
    return eosTokenIds.clone();
  }

  @Override
  public String toString() {
    return "ModelInfo[" + architecture + ", vocab " + vocabSize + ", context " + maxContext + ", bos " + bosTokenId
        + ", eos " + java.util.Arrays.toString(eosTokenIds) + ", hidden " + hiddenSize + ", layers " + layers
        + ", heads " + heads + "/" + kvHeads + ", sequences " + maxSequences + ", " + weightBytes + " weight bytes]";
  }
}
