#!/bin/sh
# Creates the read-only role Grafana connects as. The PostgreSQL (and TimescaleDB) image runs
# /docker-entrypoint-initdb.d/*.sh once, when it initialises an empty data directory, as
# POSTGRES_USER. Dashboards can run any SQL a Grafana editor types, so Grafana gets SELECT only:
# on every table and view in public that POSTGRES_USER (who runs `kasi migrate`) creates, now
# or later (ALTER DEFAULT PRIVILEGES).
set -e
: "${READER_DB_USER:?READER_DB_USER must be set}"
: "${READER_DB_PASSWORD:?READER_DB_PASSWORD must be set}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader="$READER_DB_USER" -v password="$READER_DB_PASSWORD" -v owner="$POSTGRES_USER" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
GRANT USAGE ON SCHEMA public TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
SQL
