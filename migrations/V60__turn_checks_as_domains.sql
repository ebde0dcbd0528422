-- Issue #25, PostgreSQL's CPU per model turn (fourteenth session, helper "pgdomains"). PostgreSQL 14 reads a
-- table's CHECK constraints from their stored text (stringToNode) and plans them (expression_planner) again in every
-- statement that inserts or updates the table, and evaluates all of them for every row written: after V58 still
-- about a fifth of a turn's PostgreSQL instructions (callgrind, docs/performance.md). A domain's checks are read and
-- planned once per backend (the type cache) and evaluated only where a value is assigned to a column of the domain.
-- So the checks of the text columns of the two tables every turn writes become domains' checks: the same
-- expressions, the same constraint names (a refused value still fails with SQLSTATE 23514 and the constraint's
-- name; the message names the domain instead of the table), NULL still passes.
--
-- The integer columns (feedback, first_token_ms, answer_ms) keep their table checks for now: a parameter bound
-- straight to a domain column is described to the client with the domain's type, which the pg client encodes only
-- from a String, so nodes without this release's casts ($1::smallint, ...) would fail to write them during a
-- rolling upgrade. A later migration can move them once every node casts (expand, then contract).
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
CREATE DOMAIN message_feedback_comment AS text;
CREATE DOMAIN conversation_channel AS text;

ALTER TABLE messages
  DROP CONSTRAINT messages_status_check,
  DROP CONSTRAINT messages_role_check,
  DROP CONSTRAINT messages_feedback_comment_check,
  ALTER COLUMN status TYPE message_status,
  ALTER COLUMN role TYPE message_role,
  ALTER COLUMN feedback_comment TYPE message_feedback_comment;

ALTER TABLE conversations
  DROP CONSTRAINT conversations_channel_check,
  ALTER COLUMN channel TYPE conversation_channel;

ALTER DOMAIN message_status ADD CONSTRAINT messages_status_check
  CHECK (VALUE = ANY ('{complete,streaming,interrupted,blocked}'::text[])) NOT VALID;
ALTER DOMAIN message_role ADD CONSTRAINT messages_role_check
  CHECK (VALUE = ANY ('{system,user,assistant,tool}'::text[])) NOT VALID;
ALTER DOMAIN message_feedback_comment ADD CONSTRAINT messages_feedback_comment_check
  CHECK (char_length(VALUE) <= 2000) NOT VALID;
ALTER DOMAIN conversation_channel ADD CONSTRAINT conversations_channel_check
  CHECK (VALUE = ANY ('{api,widget,console,wechat,wecom}'::text[])) NOT VALID;
