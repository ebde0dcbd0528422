-- Retrieval support for knowledge-base chunks (issue 6).
--
--  * chunks.embedding keeps each chunk's normalized float32 vector (little-endian bytes), so a FAISS
--    index that is missing or damaged on disk is rebuilt from PostgreSQL without re-running the
--    embedding model (minutes of CPU per thousand chunks on small machines).
--  * chunks.lexical serves the lexical half of hybrid search: English words through the 'english'
--    configuration (stemmed), and Chinese as overlapping character bigrams, since PostgreSQL has no
--    Chinese word segmenter. pg_trgm ships with the embedded PostgreSQL 14, but bigrams fit Chinese
--    better (most words are two characters) and need no CREATE EXTENSION, which a managed database may
--    refuse to the migration role. The query side builds the same bigrams (LexicalQuery).
--  * No new tenant table: documents already carry the status and progress of their ingestion job,
--    under the row-level security of V1.

ALTER TABLE chunks ADD COLUMN embedding bytea;

-- Distinct overlapping pairs of CJK characters in t; a lone CJK character stands for itself.
CREATE FUNCTION cjk_bigrams(t text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
    SELECT coalesce(array_agg(DISTINCT substr(m.run, i, 2)), '{}')
    FROM (SELECT (regexp_matches(t, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+', 'g'))[1] AS run) m,
         generate_series(1, greatest(length(m.run) - 1, 1)) AS i
  $$;

ALTER TABLE chunks ADD COLUMN lexical tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, section_path), 'A')
  || to_tsvector('english'::regconfig, text)
  || array_to_tsvector(cjk_bigrams(section_path || ' ' || text))
) STORED;

CREATE INDEX chunks_lexical ON chunks USING gin (lexical);
CREATE INDEX chunks_document ON chunks (tenant_id, document_id);

GRANT EXECUTE ON FUNCTION cjk_bigrams(text) TO deepchat_app;
