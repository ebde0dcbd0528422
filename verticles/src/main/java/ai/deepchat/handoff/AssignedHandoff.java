package ai.deepchat.handoff;

import java.util.UUID;

/** An open handoff row; {@code changed}: whether this request assigned it. */
record AssignedHandoff(UUID id, UUID conversationId, String visitorId, UUID agentId, String agentName,
                       boolean changed) {

  AssignedHandoff assignedTo(UUID agent, String name, boolean changed) {
    return new AssignedHandoff(id, conversationId, visitorId, agent, name, changed);
  }
}
