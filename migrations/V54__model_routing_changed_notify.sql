-- Issue #25: every change of a tenant's model_versions or rollouts rows is announced on channel
-- deepchat_model_routing_changed (payload: the tenant's id; '*' after a TRUNCATE), so every node drops its
-- copy of that tenant's serving version and rollout candidate (TenantModelDispatcher, Database.modelRouting):
-- a turn then skips reading them only while the node listens and nothing changed since. NOTIFY is delivered
-- at commit. Neither table is written by a turn (only by the registry, rollouts and their guards).

CREATE FUNCTION notify_model_routing_changed() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      PERFORM pg_notify('deepchat_model_routing_changed', '*');
      RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify('deepchat_model_routing_changed', OLD.tenant_id::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify('deepchat_model_routing_changed', NEW.tenant_id::text);
    END IF;
    RETURN NULL;
  END $$;
REVOKE ALL ON FUNCTION notify_model_routing_changed() FROM PUBLIC;

CREATE TRIGGER model_versions_changed AFTER INSERT OR UPDATE OR DELETE ON model_versions FOR EACH ROW
  EXECUTE FUNCTION notify_model_routing_changed();
CREATE TRIGGER model_versions_truncated AFTER TRUNCATE ON model_versions FOR EACH STATEMENT
  EXECUTE FUNCTION notify_model_routing_changed();
CREATE TRIGGER rollouts_changed AFTER INSERT OR UPDATE OR DELETE ON rollouts FOR EACH ROW
  EXECUTE FUNCTION notify_model_routing_changed();
CREATE TRIGGER rollouts_truncated AFTER TRUNCATE ON rollouts FOR EACH STATEMENT
  EXECUTE FUNCTION notify_model_routing_changed();
