-- Pictures WeChat/WeCom users send to a channel (issue #19 item 3).
--
--  * channel_media: the bytes of a picture, fetched once through the account's media/get API (never from
--    the push's PicUrl, an outside URL), checked to be a JPEG, PNG, GIF or WebP image and at most
--    CHANNEL_MEDIA_MAX_BYTES. Kept in PostgreSQL beside the messages that show them, so erasure of the
--    visitor (open_id) and the retention sweep remove them in the same transactions as the messages.
--  * channel_messages.media_ref: WeChat's MediaId of an image push (what the answering node fetches);
--    channel_messages.media_id: the stored picture once fetched (a node taking the message over reuses it).
--  * messages.media_id: the picture a user message carried; the console's transcript shows it.
--  * Tenant-owned: row-level security as V1; references carry the tenant as V9 (SET NULL ones checked by
--    the same_tenant_reference trigger).

CREATE TABLE channel_media (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  channel_id    uuid NOT NULL,
  open_id       text NOT NULL,
  content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/gif', 'image/webp')),
  size_bytes    integer NOT NULL CHECK (size_bytes > 0),
  data          bytea NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX channel_media_user ON channel_media (tenant_id, open_id);
CREATE INDEX channel_media_received ON channel_media (tenant_id, received_at);

ALTER TABLE channel_media ENABLE ROW LEVEL SECURITY;
ALTER TABLE channel_media FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON channel_media TO deepchat_app
  USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
DO $$ BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON channel_media TO %I USING (true) WITH CHECK (true)', current_user);
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON channel_media TO deepchat_app;

ALTER TABLE channel_messages ADD COLUMN media_ref text;
ALTER TABLE channel_messages ADD COLUMN media_id uuid REFERENCES channel_media (id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN media_id uuid REFERENCES channel_media (id) ON DELETE SET NULL;

CREATE TRIGGER channel_messages_media_id_same_tenant BEFORE INSERT OR UPDATE OF tenant_id, media_id
  ON channel_messages FOR EACH ROW EXECUTE FUNCTION same_tenant_reference('media_id', 'channel_media');
CREATE TRIGGER messages_media_id_same_tenant BEFORE INSERT OR UPDATE OF tenant_id, media_id
  ON messages FOR EACH ROW EXECUTE FUNCTION same_tenant_reference('media_id', 'channel_media');
