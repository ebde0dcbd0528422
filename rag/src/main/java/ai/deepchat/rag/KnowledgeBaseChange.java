package ai.deepchat.rag;

/**
 * What a caller changes on a knowledge base; null leaves a field as it is.
 *
 * @param answersChat true makes it the knowledge base that answers the tenant's chat (widget and API),
 *                    false stops it answering (the tenant then has none until another is chosen)
 */
public record KnowledgeBaseChange(String name, String description, Boolean answersChat) {
}
