#!/bin/sh
# Entrypoint of the Maillon image (deploy/Dockerfile).
#
# `run` (the default command): on the first start, when the data directory
# holds no node.toml, create the node from the environment, then serve it.
# Anything else is executed as given, e.g.
#   docker compose run --rm hub maillon backup --data /data
#
# Environment, read on the first start only (node.toml is the truth after):
#   MAILLON_NAME     the association's or network's name (required)
#   MAILLON_ROLE     member (default), hub or national
#   MAILLON_PORT     port to listen on inside the container (default 8470)
#   MAILLON_URL      base URL other nodes reach this node at (empty: a member behind NAT)
#   MAILLON_NETWORK  a hub's network name (default: its name)
#   MAILLON_HOST     address to listen on (default 0.0.0.0: every interface of the container)
# Always:
#   MAILLON_DATA     the data directory (default /data, the image's volume)
set -eu

# The database holds beneficiaries' personal details and node.key the
# node's identity: nothing the node writes is for other users.
umask 077

data="${MAILLON_DATA:-/data}"

if [ "$#" -eq 0 ] || [ "$1" = "run" ]; then
    mkdir -p "$data" 2>/dev/null || true
    if [ ! -w "$data" ]; then
        echo "maillon-entrypoint: $data is not writable by uid $(id -u); for a bind mount: chown -R $(id -u):$(id -g) on the host" >&2
        exit 2
    fi
    if [ ! -e "$data/node.toml" ]; then
        if [ -z "${MAILLON_NAME:-}" ]; then
            echo "maillon-entrypoint: $data holds no node yet: set MAILLON_NAME (and MAILLON_ROLE, MAILLON_URL...) for its first start" >&2
            exit 2
        fi
        maillon init --data "$data" \
            --name "$MAILLON_NAME" \
            --role "${MAILLON_ROLE:-member}" \
            --host "${MAILLON_HOST:-0.0.0.0}" \
            --port "${MAILLON_PORT:-8470}" \
            --url "${MAILLON_URL:-}" \
            --network "${MAILLON_NETWORK:-}"
    elif grep -Eq '^host *= *"(127\.[0-9.]+|::1|localhost)"' "$data/node.toml"; then
        echo "maillon-entrypoint: warning: $data/node.toml listens on loopback only; set host = \"0.0.0.0\" to reach the node from outside the container" >&2
    fi
    exec maillon run --data "$data"
fi

exec "$@"
