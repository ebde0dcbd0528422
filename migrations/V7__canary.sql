-- Model registry and rollouts (canary, A/B, shadow).
--
-- A tenant's serving stable version is its 'stable' version with the newest stable_since. Older
-- 'stable' versions (at most three stable versions per tenant are kept; the oldest beyond that is
-- retired on promotion) stay ready for an instant rollback: their workers keep serving them.
--
-- Platform-wide defaults live in platform_model_versions / platform_rollouts: not tenant-owned (no
-- tenant_id, no RLS), readable by every tenant's requests, and changed only by platform operators'
-- code paths; their audit trail is platform_model_audit. A tenant with a stable version of its own
-- never uses them.

ALTER TABLE model_versions ADD COLUMN stable_since timestamptz;

ALTER TABLE rollouts
  ADD COLUMN reason    text NOT NULL DEFAULT '',
  ADD COLUMN ended_at  timestamptz;
-- one active rollout per tenant: a conversation's assignment depends on exactly one rollout
CREATE UNIQUE INDEX rollouts_one_active ON rollouts (tenant_id) WHERE state = 'active';

CREATE TABLE platform_model_versions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name           text NOT NULL UNIQUE,
  backend        text NOT NULL CHECK (backend IN ('local', 'openai')),
  location       text NOT NULL,
  params         jsonb NOT NULL DEFAULT '{}'::jsonb,
  system_prompt_template text NOT NULL DEFAULT '',
  state          text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'canary', 'stable', 'retired')),
  stable_since   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE platform_rollouts (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  mode                  text NOT NULL CHECK (mode IN ('canary', 'ab', 'shadow')),
  stable_version_id     uuid NOT NULL REFERENCES platform_model_versions(id),
  candidate_version_id  uuid REFERENCES platform_model_versions(id),
  percentage            numeric(5, 2) NOT NULL DEFAULT 0 CHECK (percentage BETWEEN 0 AND 100),
  arms                  jsonb NOT NULL DEFAULT '[]'::jsonb,
  guards                jsonb NOT NULL DEFAULT '{}'::jsonb,
  state                 text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'promoted', 'rolled_back', 'ended')),
  reason                text NOT NULL DEFAULT '',
  ended_at              timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX platform_rollouts_one_active ON platform_rollouts ((true)) WHERE state = 'active';

-- Append-only for the application, like audit_log, for changes that belong to no tenant.
CREATE TABLE platform_model_audit (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  actor       text NOT NULL,
  action      text NOT NULL,
  target      text NOT NULL DEFAULT '',
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- A candidate's answer given in shadow mode, beside the stable answer the caller got; never shown.
-- rollout and versions may be the tenant's or the platform's, so they carry no foreign key.
CREATE TABLE shadow_answers (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  rollout_id            uuid NOT NULL,
  conversation_id       uuid,
  stable_version_id     uuid NOT NULL,
  candidate_version_id  uuid NOT NULL,
  prompt                text NOT NULL,
  stable_answer         text NOT NULL,
  candidate_answer      text,
  candidate_error       text,
  similarity            real,
  agreed                boolean,
  created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shadow_answers_rollout ON shadow_answers (tenant_id, rollout_id, id);

ALTER TABLE shadow_answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE shadow_answers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shadow_answers TO deepchat_app
  USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON shadow_answers TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

GRANT SELECT, INSERT, DELETE ON shadow_answers TO deepchat_app;
GRANT SELECT, INSERT, UPDATE ON platform_model_versions, platform_rollouts TO deepchat_app;
GRANT SELECT, INSERT ON platform_model_audit TO deepchat_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO deepchat_app;
