-- Auth changes are announced on channel deepchat_auth so every node can drop what it cached of them
-- (ApiKeyCache): a revoked, re-hashed, moved or deleted API key (payload "<tenant>:<key>"), a tenant
-- whose status changed or that was deleted ("<tenant>"), a truncated table ("*": drop everything).
-- NOTIFY is delivered at commit, so a listener never sees a change before it is visible.
-- last_used_at refreshes (one a minute per key) announce nothing: the WHEN clauses keep them cheap.

CREATE FUNCTION notify_auth_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      PERFORM pg_notify('deepchat_auth', '*');
    ELSIF TG_TABLE_NAME = 'api_keys' THEN
      PERFORM pg_notify('deepchat_auth', OLD.tenant_id || ':' || OLD.id);
    ELSE
      PERFORM pg_notify('deepchat_auth', OLD.id::text);
    END IF;
    RETURN NULL;
  END $$;
REVOKE ALL ON FUNCTION notify_auth_change() FROM PUBLIC;

CREATE TRIGGER api_keys_auth_change AFTER UPDATE OF revoked_at, key_hash, tenant_id ON api_keys FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.key_hash IS DISTINCT FROM NEW.key_hash
        OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
  EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER api_keys_auth_delete AFTER DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER api_keys_auth_truncate AFTER TRUNCATE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();

CREATE TRIGGER tenants_auth_change AFTER UPDATE OF status ON tenants FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER tenants_auth_delete AFTER DELETE ON tenants FOR EACH ROW EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER tenants_auth_truncate AFTER TRUNCATE ON tenants FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
