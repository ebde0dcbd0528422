-- Issue #25: every change of a tenant's settings row is announced on channel
-- deepchat_tenant_settings_changed (payload: the tenant's id; '*' after a TRUNCATE), so every node drops its
-- copy of that tenant's chat settings (Database.chatSettings): a turn then skips reading them only while
-- the node listens and nothing changed since. NOTIFY is delivered at commit.

CREATE FUNCTION notify_tenant_settings_changed() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      PERFORM pg_notify('deepchat_tenant_settings_changed', '*');
      RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify('deepchat_tenant_settings_changed', OLD.tenant_id::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify('deepchat_tenant_settings_changed', NEW.tenant_id::text);
    END IF;
    RETURN NULL;
  END $$;
REVOKE ALL ON FUNCTION notify_tenant_settings_changed() FROM PUBLIC;

CREATE TRIGGER tenant_settings_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_settings FOR EACH ROW
  EXECUTE FUNCTION notify_tenant_settings_changed();
CREATE TRIGGER tenant_settings_truncated AFTER TRUNCATE ON tenant_settings FOR EACH STATEMENT
  EXECUTE FUNCTION notify_tenant_settings_changed();
