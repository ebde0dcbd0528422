-- Fine-tuning datasets (issue #23 item 1): a tenant's datasets, each with its filters, the examples built
-- from stored conversations (SFT conversations and preference pairs from shadow rollouts), their review,
-- and the versions frozen for export.
--
--  * An example points at the conversation it came from, ON DELETE CASCADE: erasing a visitor (or the
--    retention job) deleting the conversation deletes its examples, and with them their copies in every
--    frozen version. Nothing of a deleted conversation survives in a dataset.
--  * The text stored is masked by the node's PII masker before it is written; original keeps what was
--    built, edited what a reviewer changed (original stays for audit).
--  * Tenant-owned: row-level security as V8, tenant-scoped foreign keys as V9.

CREATE TABLE datasets (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  from_time         timestamptz,
  to_time           timestamptz,
  intent            text,
  positive_only     boolean NOT NULL DEFAULT false,
  min_rating        smallint CHECK (min_rating BETWEEN 1 AND 5),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, name)
);

CREATE TABLE dataset_examples (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- the review queue's and the export's order: the order examples were built in
  seq                bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  dataset_id         uuid NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('sft', 'preference')),
  conversation_id    uuid NOT NULL,
  -- sft: the answer the example ends with; preference: the shown answer when it could be found
  message_id         uuid,
  shadow_answer_id   bigint,
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
  -- preference pairs: who chose the preferred answer; a pair nobody chose cannot be accepted
  chosen_by          text CHECK (chosen_by IN ('feedback', 'rater')),
  original           jsonb NOT NULL,
  edited             jsonb,
  reviewed_by        text,
  reviewed_at        timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, dataset_id) REFERENCES datasets (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
-- building again adds only what is new
CREATE UNIQUE INDEX dataset_examples_message ON dataset_examples (dataset_id, message_id) WHERE kind = 'sft';
CREATE UNIQUE INDEX dataset_examples_shadow ON dataset_examples (dataset_id, shadow_answer_id) WHERE kind = 'preference';
CREATE INDEX dataset_examples_review ON dataset_examples (tenant_id, dataset_id, seq);

CREATE TABLE dataset_versions (
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  dataset_id        uuid NOT NULL,
  number            integer NOT NULL CHECK (number > 0),
  sft_examples      integer NOT NULL,
  preference_pairs  integer NOT NULL,
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, dataset_id, number),
  FOREIGN KEY (tenant_id, dataset_id) REFERENCES datasets (tenant_id, id) ON DELETE CASCADE
);

-- a version's frozen lines: the example's text as accepted when the version was made
CREATE TABLE dataset_version_examples (
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  dataset_id        uuid NOT NULL,
  number            integer NOT NULL,
  example_id        uuid NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('sft', 'preference')),
  position          integer NOT NULL,
  line              jsonb NOT NULL,
  PRIMARY KEY (tenant_id, dataset_id, number, example_id),
  FOREIGN KEY (tenant_id, dataset_id, number) REFERENCES dataset_versions (tenant_id, dataset_id, number)
    ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, example_id) REFERENCES dataset_examples (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['datasets', 'dataset_examples', 'dataset_versions', 'dataset_version_examples']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO deepchat_app '
                   'USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    EXECUTE format('CREATE POLICY owner_maintenance ON %I TO %I USING (true) WITH CHECK (true)',
                   t, current_user);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON datasets, dataset_examples TO deepchat_app;
-- a frozen version is never changed; it goes with its dataset, or line by line with erased examples
GRANT SELECT, INSERT, DELETE ON dataset_versions, dataset_version_examples TO deepchat_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO deepchat_app;
