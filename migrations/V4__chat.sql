-- Chat pipeline: link each answer to the question it answers, track when a streaming answer last
-- progressed (a node that died mid-stream leaves a row that a retry may take over), and let the widget
-- edge answer CORS preflights, which carry no credentials and so name no tenant.

ALTER TABLE messages
  ADD COLUMN reply_to    uuid REFERENCES messages(id) ON DELETE CASCADE,
  ADD COLUMN updated_at  timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;

-- True when some tenant's widget allows this exact origin. Runs with the owner's rights, across tenants,
-- and reveals one boolean about public information (the sites that embed a widget); the real check
-- against the calling tenant's list happens on the request itself.
CREATE FUNCTION widget_origin_allowed(origin text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT EXISTS (SELECT 1 FROM widget_settings WHERE origin = ANY (allowed_origins)) $$;
REVOKE ALL ON FUNCTION widget_origin_allowed(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION widget_origin_allowed(text) TO deepchat_app;
