#!/bin/sh
# PostgreSQL first-start script for docker-compose.yml (mounted into /docker-entrypoint-initdb.d/).
# The postgres image runs it once, when the data volume is empty; it does not run again on
# later starts, so a changed RIGHTS_DB_PASSWORD needs `ALTER ROLE rights PASSWORD ...` by hand.
#
# Creates the service's own login role and its two databases:
#   records  the compliance records and the notice ledger (RECORDS_DATABASE_URL)
#   service  stand-in for the health service's database (SERVICE_DATABASE_URL)
# Temporal's databases (temporal, temporal_visibility) are created by the temporal-schema job
# (deploy/temporal-schema.sh), on every start, where missing.

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v rights_password="$RIGHTS_DB_PASSWORD" <<'SQL'
CREATE ROLE rights LOGIN PASSWORD :'rights_password';
CREATE DATABASE records OWNER rights;
CREATE DATABASE service OWNER rights;
SQL
