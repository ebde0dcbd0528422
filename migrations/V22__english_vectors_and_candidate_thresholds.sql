-- A bge-small-en vector for each English chunk of a bge-small-zh knowledge base (issue #15,
-- EnglishVectors): retrieval reorders the English chunks among its vector candidates by it. NULL for
-- Chinese chunks, for other models' knowledge bases and for chunks ingested before this column (they
-- keep bge-small-zh's order until re-uploaded). The column rides on the chunks table's row-level
-- security and grants, like chunks.location (V15).

ALTER TABLE chunks ADD COLUMN embedding_en bytea;

-- An evaluation run may measure the knowledge base at candidate routing thresholds (issue #15 item 5)
-- without saving them: the run keeps the thresholds it used (the tenant's own unless it was given
-- others), how many questions retrieval would have answered at them, and how many of those cite the
-- expected passage. Columns of eval_runs: its row-level security and grants cover them.
ALTER TABLE eval_runs
  ADD COLUMN knowledge_threshold real,
  ADD COLUMN citation_threshold  real,
  ADD COLUMN answered_rate       real,
  ADD COLUMN cited_recall        real;
