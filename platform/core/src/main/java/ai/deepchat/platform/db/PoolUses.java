package ai.deepchat.platform.db;

/**
 * Uses of the per-event-loop pools since start (#25; {@link LoopPools#take()}): served by the calling loop's
 * own pool, by another loop's idle connection (borrowed: that connection answers on its own loop, which then
 * wakes the caller's), or after waiting in the node's queue with every pool busy. All zero with one pool.
 */
public record PoolUses(long own, long borrowed, long waited) {
}
