package ai.deepchat.platform;

import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.Database;

/** What every verticle of a node shares: its configuration and the application database. */
public record Platform(PlatformConfig config, Database database, String nodeId) {
}
