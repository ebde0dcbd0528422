-- Admin console sessions and platform-admin lockout.
--
-- Console sessions are signed JWTs in a cookie; signing out (or an owner resetting a password) moves
-- sessions_valid_after forward, which invalidates every session issued before it.

ALTER TABLE users
  ADD COLUMN sessions_valid_after timestamptz NOT NULL DEFAULT '-infinity';

ALTER TABLE platform_admins
  ADD COLUMN failed_logins        integer NOT NULL DEFAULT 0,
  ADD COLUMN locked_until         timestamptz,
  ADD COLUMN sessions_valid_after timestamptz NOT NULL DEFAULT '-infinity';
