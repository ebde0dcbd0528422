-- Issue #25, PostgreSQL's CPU per turn: every message insert (two per model turn) checked its tenant_id
-- against tenants with its own foreign key, a "SELECT 1 FROM tenants ... FOR KEY SHARE" that also locks
-- the tenant's one row (WAL for the lock, and a MultiXact when turns of one tenant overlap, which they
-- always do). The check is implied: messages_conversation_id_tenant_fkey (V9) makes (tenant_id,
-- conversation_id) an existing conversation of that tenant, and conversations.tenant_id references
-- tenants. Deleting a tenant still deletes its messages, through its conversations (both ON DELETE
-- CASCADE). tenant_id stays on every message, and row-level security is unchanged.
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey;
