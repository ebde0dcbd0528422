-- Wrong passwords are slowed per (account, client address) in the node (FailureBackoff), never by a
-- lock on the account that anyone could trigger: the lock columns have no reader or writer left.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;
ALTER TABLE platform_admins DROP COLUMN failed_logins, DROP COLUMN locked_until;
