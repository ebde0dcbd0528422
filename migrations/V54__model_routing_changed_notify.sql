-- Issue #25: every change of a tenant's model_versions or rollouts rows is announced on channel
-- deepchat_model_routing_changed (payload: the tenant's id; '*' after a TRUNCATE), so every node drops its
-- copy of that tenant's serving version and rollout candidate (TenantModelDispatcher, Database.modelRouting):
-- a turn then skips reading them only while the node listens and nothing changed since. NOTIFY is delivered
-- at commit. Neither table is written by a turn (only by the registry, rollouts and their guards).
-- notify_tenant_change() is V53's.

CREATE TRIGGER model_versions_changed AFTER INSERT OR UPDATE OR DELETE ON model_versions FOR EACH ROW
  EXECUTE FUNCTION notify_tenant_change('deepchat_model_routing_changed');
CREATE TRIGGER model_versions_truncated AFTER TRUNCATE ON model_versions FOR EACH STATEMENT
  EXECUTE FUNCTION notify_tenant_change('deepchat_model_routing_changed');
CREATE TRIGGER rollouts_changed AFTER INSERT OR UPDATE OR DELETE ON rollouts FOR EACH ROW
  EXECUTE FUNCTION notify_tenant_change('deepchat_model_routing_changed');
CREATE TRIGGER rollouts_truncated AFTER TRUNCATE ON rollouts FOR EACH STATEMENT
  EXECUTE FUNCTION notify_tenant_change('deepchat_model_routing_changed');
