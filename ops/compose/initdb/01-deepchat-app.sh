#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the application role gets its login
# here, so every node can use the same DATABASE_APP_PASSWORD (a node left to generate one would
# change the password under the others). The migrations keep an existing deepchat_app as it is.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$DEEPCHAT_APP_PASSWORD" <<'SQL'
CREATE ROLE deepchat_app LOGIN PASSWORD :'pw' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
SQL
