-- Issue #22: rollout outcomes (V30) are kept for the comparison panel, not for ever. The retention job
-- deletes a tenant's outcomes older than ROLLOUT_OUTCOME_RETENTION_DAYS, or its own retention_days when
-- shorter, as the tenant (row-level security keeps it to the tenant's rows); the index finds them by age.

CREATE INDEX rollout_outcomes_age ON rollout_outcomes (tenant_id, created_at);

GRANT DELETE ON rollout_outcomes TO deepchat_app;
