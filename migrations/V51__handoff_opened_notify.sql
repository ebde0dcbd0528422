-- A handoff that opens on a conversation is announced on channel deepchat_handoff_opened (payload
-- "<tenant>:<conversation>"), so every node drops its memory that the conversation had none
-- (Database.withoutOpenHandoff): a widget turn then skips the handoff lookup only while the node
-- listens and nothing opened since. Only openings matter: what is remembered is the absence of an open
-- handoff, which a resolve or a delete cannot make wrong. NOTIFY is delivered at commit.

CREATE FUNCTION notify_handoff_opened() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    PERFORM pg_notify('deepchat_handoff_opened', NEW.tenant_id || ':' || NEW.conversation_id);
    RETURN NULL;
  END $$;
REVOKE ALL ON FUNCTION notify_handoff_opened() FROM PUBLIC;

CREATE TRIGGER handoffs_opened AFTER INSERT ON handoffs FOR EACH ROW
  WHEN (NEW.state <> 'resolved')
  EXECUTE FUNCTION notify_handoff_opened();
-- plain SQL could reopen a resolved handoff or move an open one to another conversation
CREATE TRIGGER handoffs_reopened AFTER UPDATE OF state, conversation_id, tenant_id ON handoffs FOR EACH ROW
  WHEN (NEW.state <> 'resolved' AND (OLD.state = 'resolved' OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id
        OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id))
  EXECUTE FUNCTION notify_handoff_opened();
