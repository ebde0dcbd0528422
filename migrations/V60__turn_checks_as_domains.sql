-- Issue #25, PostgreSQL's CPU per model turn (fourteenth session, helper "pgdomains"). PostgreSQL 14 reads a
-- table's CHECK constraints from their stored text (stringToNode) and plans them (expression_planner) again in every
-- statement that inserts or updates the table, and evaluates all of them for every row written: after V58 still
-- about a fifth of a turn's PostgreSQL instructions (callgrind, docs/performance.md). A domain's checks are read and
-- planned once per backend (the type cache) and evaluated only where a value is assigned to a column of the domain.
-- So the seven checks of the two tables every turn writes become domains' checks: the same expressions, the same
-- constraint names (a refused value still fails with SQLSTATE 23514 and the constraint's name), NULL still passes.
--
-- Safe on a large table: no row is rewritten or read. The domains are created without checks, so changing the
-- columns' types is a catalog change (a domain over the column's own type needs no rewrite, and the indexes are
-- kept); the old table checks are dropped in the same ALTER TABLE. ALTER TABLE holds ACCESS EXCLUSIVE on messages
-- and conversations until this migration commits (milliseconds: nothing is scanned). The domains' checks are then
-- added NOT VALID: every stored row already passed the identical table check, and no row can be written between
-- the drop and the add (the lock is held to the commit); a validation would scan messages under a SHARE lock
-- (writes wait) to prove what is already known. New and changed values are checked as before.
CREATE DOMAIN message_status AS text;
CREATE DOMAIN message_role AS text;
CREATE DOMAIN message_feedback AS smallint;
CREATE DOMAIN message_feedback_comment AS text;
CREATE DOMAIN message_first_token_ms AS integer;
CREATE DOMAIN message_answer_ms AS integer;
CREATE DOMAIN conversation_channel AS text;

ALTER TABLE messages
  DROP CONSTRAINT messages_status_check,
  DROP CONSTRAINT messages_role_check,
  DROP CONSTRAINT messages_feedback_check,
  DROP CONSTRAINT messages_feedback_comment_check,
  DROP CONSTRAINT messages_first_token_ms_check,
  DROP CONSTRAINT messages_answer_ms_check,
  ALTER COLUMN status TYPE message_status,
  ALTER COLUMN role TYPE message_role,
  ALTER COLUMN feedback TYPE message_feedback,
  ALTER COLUMN feedback_comment TYPE message_feedback_comment,
  ALTER COLUMN first_token_ms TYPE message_first_token_ms,
  ALTER COLUMN answer_ms TYPE message_answer_ms;

ALTER TABLE conversations
  DROP CONSTRAINT conversations_channel_check,
  ALTER COLUMN channel TYPE conversation_channel;

ALTER DOMAIN message_status ADD CONSTRAINT messages_status_check
  CHECK (VALUE = ANY ('{complete,streaming,interrupted,blocked}'::text[])) NOT VALID;
ALTER DOMAIN message_role ADD CONSTRAINT messages_role_check
  CHECK (VALUE = ANY ('{system,user,assistant,tool}'::text[])) NOT VALID;
ALTER DOMAIN message_feedback ADD CONSTRAINT messages_feedback_check
  CHECK (VALUE = ANY ('{-1,1}'::integer[])) NOT VALID;
ALTER DOMAIN message_feedback_comment ADD CONSTRAINT messages_feedback_comment_check
  CHECK (char_length(VALUE) <= 2000) NOT VALID;
ALTER DOMAIN message_first_token_ms ADD CONSTRAINT messages_first_token_ms_check CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN message_answer_ms ADD CONSTRAINT messages_answer_ms_check CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN conversation_channel ADD CONSTRAINT conversations_channel_check
  CHECK (VALUE = ANY ('{api,widget,console,wechat,wecom}'::text[])) NOT VALID;
