-- Least privilege for the application role (issue #14 item 6).
--
--  * deepchat_app no longer reads or writes platform_admins. The console's super-admin sign-in goes
--    through the functions below, which run with the owner's rights on one account named by its exact
--    email or id: SQL that reaches the app's connection can neither list the operators with their
--    password hashes nor add one. The first super-admin (SUPERADMIN_EMAIL) is created only while there
--    is none.
--  * deepchat_app no longer updates or deletes tenants (nothing in the platform does; suspending a
--    tenant is an operator's job, as the owner).
--  * Nobody but the owner creates objects in schema public (PostgreSQL 14 lets every role do so), nor
--    temporary tables: a temporary table named like a tenant table would shadow it, without row-level
--    security, for every later request on that pooled connection.

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM deepchat_app;
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM deepchat_app', current_database());
END $$;
REVOKE ALL ON platform_admins FROM deepchat_app;
REVOKE UPDATE, DELETE, TRUNCATE ON tenants FROM deepchat_app;

-- The account signing in with this email: its id and password hash (checked by the caller). Wrong
-- passwords are slowed per (account, client address) in the node, never by a lock on the account.
CREATE FUNCTION platform_admin_credentials(p_email text)
  RETURNS TABLE (id uuid, password_hash text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT a.id, a.password_hash FROM platform_admins a WHERE lower(a.email) = lower(p_email) $$;

-- Signing out ends every session of the account issued before now.
CREATE FUNCTION platform_admin_sign_out(p_id uuid) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ UPDATE platform_admins SET sessions_valid_after = now() WHERE id = p_id $$;

-- The account of a session issued at p_issued_at, if that session is still valid.
CREATE FUNCTION platform_admin_session(p_id uuid, p_issued_at timestamptz)
  RETURNS TABLE (id uuid, email text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT a.id, a.email FROM platform_admins a WHERE a.id = p_id AND a.sessions_valid_after <= p_issued_at $$;

CREATE FUNCTION platform_admin_bootstrap_needed() RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT NOT EXISTS (SELECT 1 FROM platform_admins) $$;

-- The first super-admin; false (and nothing written) once any platform admin exists.
CREATE FUNCTION platform_admin_bootstrap(p_email text, p_password_hash text) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    -- nodes starting together: one creates the account, the others then find it
    LOCK TABLE platform_admins IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM platform_admins) THEN
      RETURN false;
    END IF;
    INSERT INTO platform_admins (email, password_hash) VALUES (lower(p_email), p_password_hash);
    RETURN true;
  END $$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['platform_admin_credentials(text)', 'platform_admin_sign_out(uuid)',
                           'platform_admin_session(uuid, timestamptz)', 'platform_admin_bootstrap_needed()',
                           'platform_admin_bootstrap(text, text)']
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO deepchat_app', f);
  END LOOP;
END $$;
