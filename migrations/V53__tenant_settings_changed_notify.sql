-- Issue #25: every change of a tenant's settings row is announced on channel
-- deepchat_tenant_settings_changed (payload: the tenant's id; '*' after a TRUNCATE), so every node drops its
-- copy of that tenant's chat settings (Database.chatSettings): a turn then skips reading them only while
-- the node listens and nothing changed since. NOTIFY is delivered at commit.
--
-- notify_tenant_change() serves any table of tenant rows a node keeps a copy of: the channel is the
-- trigger's argument (V54 uses it for model routing).

CREATE FUNCTION notify_tenant_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      PERFORM pg_notify(TG_ARGV[0], '*');
      RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify(TG_ARGV[0], OLD.tenant_id::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify(TG_ARGV[0], NEW.tenant_id::text);
    END IF;
    RETURN NULL;
  END $$;
REVOKE ALL ON FUNCTION notify_tenant_change() FROM PUBLIC;

CREATE TRIGGER tenant_settings_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_settings FOR EACH ROW
  EXECUTE FUNCTION notify_tenant_change('deepchat_tenant_settings_changed');
CREATE TRIGGER tenant_settings_truncated AFTER TRUNCATE ON tenant_settings FOR EACH STATEMENT
  EXECUTE FUNCTION notify_tenant_change('deepchat_tenant_settings_changed');
