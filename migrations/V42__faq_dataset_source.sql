-- Issue #23: staff-written FAQ answers as a fine-tuning source (docs/finetuning.md, "Datasets").
--
--  * messages.faq_entry_id: the FAQ entry whose answer this assistant message is (null: not an FAQ answer).
--    The visitor questions it answered are that entry's question variants. No foreign key: an answer
--    stays what it was when its entry is edited or deleted. A column of messages: its tenant_id, RLS and
--    grants cover it, and it goes with the message (retention, visitor erasure).
--  * datasets.sources: which sources a dataset draws on (null: all of them).
--  * dataset_examples.source names where each example came from. An FAQ example is (question variant ->
--    the entry's answer as staff last wrote it): the entry's own question has no conversation
--    (conversation_id null, nothing of a visitor in it); a visitor's question keeps its conversation, so
--    erasing the visitor or the retention job deletes the example as before (ON DELETE CASCADE).
--    faq_entry_id and faq_answer_md5 say which answer an example teaches: an edited answer is a new
--    example, and building again rejects pending examples of an answer that changed since.

ALTER TABLE messages ADD COLUMN faq_entry_id uuid;
CREATE INDEX messages_faq_entry ON messages (tenant_id, faq_entry_id) WHERE faq_entry_id IS NOT NULL;

ALTER TABLE datasets ADD COLUMN sources text[]
  CHECK (sources <@ ARRAY['answers', 'agents', 'shadow', 'faq']::text[] AND cardinality(sources) > 0);

ALTER TABLE dataset_examples ALTER COLUMN conversation_id DROP NOT NULL;
ALTER TABLE dataset_examples ADD COLUMN source text NOT NULL DEFAULT 'answers'
  CHECK (source IN ('answers', 'agents', 'shadow', 'faq'));
ALTER TABLE dataset_examples ADD COLUMN faq_entry_id uuid;
ALTER TABLE dataset_examples ADD COLUMN faq_answer_md5 text;
ALTER TABLE dataset_examples ADD CONSTRAINT dataset_examples_faq_source
  CHECK ((source = 'faq') = (faq_entry_id IS NOT NULL AND faq_answer_md5 IS NOT NULL)
         AND (conversation_id IS NOT NULL OR source = 'faq'));
UPDATE dataset_examples e SET source = CASE WHEN e.kind = 'preference' THEN 'shadow'
  WHEN EXISTS (SELECT 1 FROM handoff_messages h WHERE h.id = e.message_id) THEN 'agents' ELSE 'answers' END;

-- an FAQ example's message_id is the visitor's question (null: the entry's own question); one example per
-- question and answer text
DROP INDEX dataset_examples_message;
CREATE UNIQUE INDEX dataset_examples_message ON dataset_examples (dataset_id, message_id)
  WHERE kind = 'sft' AND source <> 'faq';
CREATE UNIQUE INDEX dataset_examples_faq ON dataset_examples (dataset_id, faq_entry_id, faq_answer_md5,
  coalesce(message_id, '00000000-0000-0000-0000-000000000000'::uuid)) WHERE source = 'faq';

-- A/B pair sampling (issue #23, preference pairs from A/B): the share (0-100 %) of an A/B rollout's turns
-- on which one other arm also answers in the background, like a shadow candidate (never shown; stored in
-- shadow_answers with the shown arm as stable_version_id), so A/B rollouts yield preference pairs too.
ALTER TABLE rollouts ADD COLUMN pair_sampling numeric(5, 2) NOT NULL DEFAULT 0
  CHECK (pair_sampling BETWEEN 0 AND 100);
ALTER TABLE platform_rollouts ADD COLUMN pair_sampling numeric(5, 2) NOT NULL DEFAULT 0
  CHECK (pair_sampling BETWEEN 0 AND 100);
