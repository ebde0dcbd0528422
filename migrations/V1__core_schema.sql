-- Core multi-tenant schema.
--
-- Security model (see docs/architecture.md, "Tenancy"):
--  * Migrations run as the owning role. The platform's request path connects as deepchat_app, which
--    owns nothing and cannot bypass row-level security.
--  * Every tenant-owned table carries tenant_id, has FORCE ROW LEVEL SECURITY, and one policy for
--    deepchat_app keyed on the transaction-local setting app.tenant_id (set with
--    set_config('app.tenant_id', $1, true) inside each transaction). With no tenant set the policy
--    matches nothing. WITH CHECK stops writes into another tenant.
--  * Credentials carry their tenant (dck_<tenant>_..., pk_<tenant>_..., workspace slug at login), so
--    no request needs a cross-tenant lookup; only the tenants directory is global.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deepchat_app') THEN
    CREATE ROLE deepchat_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$;

-- The tenant of the current transaction, or NULL when none is set (the policies then match nothing).
CREATE FUNCTION app_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

-- Global directory of tenants: no secrets here, tenant data lives in tenant-owned tables.
CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name        text NOT NULL,
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Platform operators who create tenants; not tenant-owned.
CREATE TABLE platform_admins (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text NOT NULL UNIQUE,
  password_hash  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_settings (
  tenant_id       uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  system_prompt   text NOT NULL DEFAULT '',
  retention_days  integer NOT NULL DEFAULT 365 CHECK (retention_days > 0),
  settings        jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email            text NOT NULL,
  display_name     text NOT NULL DEFAULT '',
  password_hash    text NOT NULL,
  role             text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  failed_logins    integer NOT NULL DEFAULT 0,
  locked_until     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email)
);

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          text NOT NULL,
  key_prefix    text NOT NULL,
  key_hash      text NOT NULL UNIQUE,
  created_by    uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

CREATE TABLE model_versions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name           text NOT NULL,
  backend        text NOT NULL CHECK (backend IN ('local', 'openai')),
  location       text NOT NULL,
  params         jsonb NOT NULL DEFAULT '{}'::jsonb,
  system_prompt_template text NOT NULL DEFAULT '',
  state          text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'canary', 'stable', 'retired')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE rollouts (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  mode                  text NOT NULL CHECK (mode IN ('canary', 'ab', 'shadow')),
  stable_version_id     uuid NOT NULL REFERENCES model_versions(id),
  candidate_version_id  uuid REFERENCES model_versions(id),
  percentage            numeric(5, 2) NOT NULL DEFAULT 0 CHECK (percentage BETWEEN 0 AND 100),
  arms                  jsonb NOT NULL DEFAULT '[]'::jsonb,
  guards                jsonb NOT NULL DEFAULT '{}'::jsonb,
  state                 text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'promoted', 'rolled_back', 'ended')),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  visitor_id        text,
  channel           text NOT NULL DEFAULT 'api' CHECK (channel IN ('api', 'widget', 'console')),
  title             text NOT NULL DEFAULT '',
  model_version_id  uuid REFERENCES model_versions(id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_tenant_updated ON conversations (tenant_id, updated_at DESC);
CREATE INDEX conversations_tenant_visitor ON conversations (tenant_id, visitor_id);

CREATE TABLE messages (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id    uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  role               text NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content            text NOT NULL,
  reasoning          text,
  status             text NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'streaming', 'interrupted', 'blocked')),
  intent             text,
  intent_score       real,
  citations          jsonb NOT NULL DEFAULT '[]'::jsonb,
  model_version_id   uuid REFERENCES model_versions(id) ON DELETE SET NULL,
  prompt_tokens      integer NOT NULL DEFAULT 0,
  completion_tokens  integer NOT NULL DEFAULT 0,
  feedback           smallint CHECK (feedback IN (-1, 1)),
  idempotency_key    text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX messages_conversation ON messages (tenant_id, conversation_id, created_at);

CREATE TABLE knowledge_bases (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name             text NOT NULL,
  description      text NOT NULL DEFAULT '',
  embedding_model  text NOT NULL DEFAULT 'bge-small-zh-v1.5-q',
  version          bigint NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE documents (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  knowledge_base_id  uuid NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
  title              text NOT NULL,
  source_name        text NOT NULL,
  content_type       text NOT NULL,
  content_hash       text NOT NULL,
  size_bytes         bigint NOT NULL DEFAULT 0,
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
  progress           real NOT NULL DEFAULT 0,
  error              text,
  chunk_count        integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, knowledge_base_id, source_name)
);

-- chunk ids are 64-bit so they double as FAISS vector ids.
CREATE TABLE chunks (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  knowledge_base_id  uuid NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
  document_id        uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal            integer NOT NULL,
  section_path       text NOT NULL DEFAULT '',
  text               text NOT NULL,
  token_count        integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (document_id, ordinal)
);
CREATE INDEX chunks_kb ON chunks (tenant_id, knowledge_base_id);

-- Append-only and hash-chained per tenant (the audit verticle computes hash over prev_hash + row).
CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  actor       text NOT NULL,
  action      text NOT NULL,
  target      text NOT NULL DEFAULT '',
  ip          text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  prev_hash   text NOT NULL,
  hash        text NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

-- Row-level security on every tenant-owned table, for the application role.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_settings', 'users', 'api_keys', 'model_versions', 'rollouts',
                           'conversations', 'messages', 'knowledge_bases', 'documents', 'chunks',
                           'audit_log']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO deepchat_app '
                   'USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    -- The owning (migration) role keeps full access for maintenance; it is never the request path.
    EXECUTE format('CREATE POLICY owner_maintenance ON %I TO %I USING (true) WITH CHECK (true)',
                   t, current_user);
  END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO deepchat_app;
GRANT SELECT, INSERT, UPDATE ON tenants, platform_admins TO deepchat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_settings, users, api_keys, model_versions, rollouts,
  conversations, messages, knowledge_bases, documents, chunks TO deepchat_app;
-- audit_log is append-only for the application.
GRANT SELECT, INSERT ON audit_log TO deepchat_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO deepchat_app;
GRANT EXECUTE ON FUNCTION app_tenant() TO deepchat_app;
