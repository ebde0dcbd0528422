-- Channel secrets encrypted at rest (issue #19).
--
--  * channels.app_secret, token and encoding_aes_key now hold values sealed by the node (AES-256-GCM,
--    "v1:<key id>:<data>", see SecretBox): the 43-character check on the EncodingAESKey moves to the
--    application, which checks the value before sealing it.
--  * channels_to_reseal() names the channels holding a value not sealed with the node's current key
--    (stored before this version, or under a key since rotated out): each node seals them at start, under
--    the row's tenant. It names ids only, never values.

ALTER TABLE channels DROP CONSTRAINT channels_encoding_aes_key_check;

CREATE FUNCTION channels_to_reseal(p_prefix text)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT c.tenant_id, c.id FROM channels c
        WHERE left(c.app_secret, length(p_prefix)) <> p_prefix OR left(c.token, length(p_prefix)) <> p_prefix
           OR left(c.encoding_aes_key, length(p_prefix)) <> p_prefix $$;

REVOKE ALL ON FUNCTION channels_to_reseal(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION channels_to_reseal(text) TO deepchat_app;
