#!/bin/sh
# docker-compose.yml's `temporal-schema` job, in the temporalio/admin-tools image, before the
# Temporal server starts: creates Temporal's two PostgreSQL databases where they are missing and
# brings both schemas up to the versions this admin-tools release ships, so the server (whose
# image carries no schema tool) starts on an up-to-date database. Safe on every start: an
# existing database is kept, an existing schema's version table is kept, and an up-to-date
# schema is left as it is.
#
# The connection comes from temporal-sql-tool's own variables: SQL_PLUGIN (postgres12),
# SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD (never on a command line, where `ps` shows it).
set -eu

SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

for pair in temporal:temporal temporal_visibility:visibility; do
    database=${pair%%:*}
    schema=${pair#*:}
    temporal-sql-tool --db "$database" create-database
    temporal-sql-tool --db "$database" setup-schema -v 0.0
    temporal-sql-tool --db "$database" update-schema -d "$SCHEMA_DIR/$schema/versioned"
    echo "temporal_schema_ready database=$database"
done
