#!/bin/sh
# docker-compose.yml's `temporal-namespace` job, in the temporalio/admin-tools image, once the
# Temporal server answers: creates the namespace the service runs in and registers the custom
# search attributes every run sets (rights/search_attributes.py), then exits, so the workers
# start only when both exist. Safe on every start: an existing namespace is kept as it is, and
# the server skips attributes the namespace already has.
#
#   TEMPORAL_ADDRESS      the frontend, host:port
#   TEMPORAL_NAMESPACE    the namespace
#   NAMESPACE_RETENTION   how long closed runs' histories are kept, e.g. 720h
#   SEARCH_ATTRIBUTES     space-separated Name=Type pairs, e.g. "RespondBy=Datetime"
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${NAMESPACE_RETENTION:?}"
: "${SEARCH_ATTRIBUTES:?}"
ATTEMPTS=${ATTEMPTS:-60}
PAUSE_SECONDS=${PAUSE_SECONDS:-2}

# The server's port opens before it serves, and a namespace just created takes a few seconds
# to reach every frontend's cache: each step is tried again until it succeeds or time is up.
retry() {
    attempt=1
    until "$@"; do
        if [ "$attempt" -ge "$ATTEMPTS" ]; then
            echo "temporal_namespace_failed attempts=$attempt: $*" >&2
            return 1
        fi
        attempt=$((attempt + 1))
        sleep "$PAUSE_SECONDS"
    done
}

namespace_exists() {
    temporal operator namespace describe \
        --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1
}

create_namespace_once() {
    namespace_exists && return 0
    # A create that failed (server not ready) or raced another is settled by the describe.
    temporal operator namespace create --address "$TEMPORAL_ADDRESS" \
        --namespace "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION" || true
    namespace_exists
}

retry temporal operator cluster health --address "$TEMPORAL_ADDRESS"
retry create_namespace_once
echo "temporal_namespace_ready namespace=$TEMPORAL_NAMESPACE"

# One call for every attribute: --name and --type pairs, in the order given.
set --
for attribute in $SEARCH_ATTRIBUTES; do
    set -- "$@" --name "${attribute%%=*}" --type "${attribute#*=}"
done
retry temporal operator search-attribute create \
    --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" "$@"
echo "temporal_search_attributes_ready namespace=$TEMPORAL_NAMESPACE"
