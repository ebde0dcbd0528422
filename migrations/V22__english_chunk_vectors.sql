-- A bge-small-en vector for each English chunk of a bge-small-zh knowledge base (issue #15,
-- EnglishVectors): retrieval reorders the English chunks among its vector candidates by it. NULL for
-- Chinese chunks, for other models' knowledge bases and for chunks ingested before this column (they
-- keep bge-small-zh's order until re-uploaded). The column rides on the chunks table's row-level
-- security and grants, like chunks.location (V15).

ALTER TABLE chunks ADD COLUMN embedding_en bytea;
