-- Per-tenant chat features: widget, FAQ answers, intent rules, sensitive words, plugins, and the
-- tenant's limits and thresholds. Same tenancy pattern as V1.

ALTER TABLE tenant_settings
  ADD COLUMN faq_threshold            real    NOT NULL DEFAULT 0.80 CHECK (faq_threshold BETWEEN 0 AND 1),
  ADD COLUMN default_knowledge_base_id uuid   REFERENCES knowledge_bases(id) ON DELETE SET NULL,
  ADD COLUMN moderation_action        text    NOT NULL DEFAULT 'block' CHECK (moderation_action IN ('block', 'mask')),
  ADD COLUMN blocked_reply            text    NOT NULL DEFAULT 'Sorry, I cannot help with that request.',
  ADD COLUMN requests_per_minute      integer NOT NULL DEFAULT 600 CHECK (requests_per_minute > 0),
  ADD COLUMN visitor_requests_per_minute integer NOT NULL DEFAULT 20 CHECK (visitor_requests_per_minute > 0),
  ADD COLUMN api_key_requests_per_minute integer NOT NULL DEFAULT 120 CHECK (api_key_requests_per_minute > 0),
  ADD COLUMN max_message_chars        integer NOT NULL DEFAULT 8000 CHECK (max_message_chars > 0);

-- One widget per tenant; the public key names the tenant (pk_<tenant>_<random>) and is not a secret.
CREATE TABLE widget_settings (
  tenant_id        uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  public_key       text NOT NULL UNIQUE,
  allowed_origins  text[] NOT NULL DEFAULT '{}',
  title            text NOT NULL DEFAULT 'Chat with us',
  greeting         text NOT NULL DEFAULT 'Hi! How can I help you today?',
  primary_color    text NOT NULL DEFAULT '#2563eb' CHECK (primary_color ~ '^#[0-9a-fA-F]{6}$'),
  language         text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh')),
  position         text NOT NULL DEFAULT 'right' CHECK (position IN ('left', 'right')),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE faq_entries (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  question    text NOT NULL,
  answer      text NOT NULL,
  -- embedding of the question (float32 little-endian), filled by the pipeline when missing
  embedding   bytea,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faq_entries_tenant ON faq_entries (tenant_id);

-- Rules that force an intent before any similarity matching.
CREATE TABLE intent_rules (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  intent      text NOT NULL CHECK (intent IN ('faq', 'knowledge', 'chat')),
  kind        text NOT NULL CHECK (kind IN ('keyword', 'regex')),
  pattern     text NOT NULL,
  priority    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sensitive_words (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  word        text NOT NULL CHECK (length(word) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, word)
);

CREATE TABLE plugin_configs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  plugin      text NOT NULL,
  enabled     boolean NOT NULL DEFAULT true,
  config      jsonb NOT NULL DEFAULT '{}'::jsonb,
  UNIQUE (tenant_id, plugin)
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['widget_settings', 'faq_entries', 'intent_rules', 'sensitive_words', 'plugin_configs']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO deepchat_app '
                   'USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    EXECUTE format('CREATE POLICY owner_maintenance ON %I TO %I USING (true) WITH CHECK (true)',
                   t, current_user);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON widget_settings, faq_entries, intent_rules, sensitive_words,
  plugin_configs TO deepchat_app;
