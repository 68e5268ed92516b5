#!/bin/sh
# Join member nodes to a hub, once: the `enrol` service of deploy/compose.yaml.
#
#   maillon-enrol HUB_DATA MEMBER_DATA...
#
# For each member that has no hub yet, the hub signs a one-time invitation
# (`maillon invite`) and the member joins with the line it prints
# (`maillon join URL --token T --fingerprint F`), exactly as two admins
# would do by hand. A member that already has a hub is left alone, so
# running it again changes nothing. The nodes may be running: the running
# hub answers the join, and the running member starts talking to its hub
# within seconds.
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: maillon-enrol HUB_DATA MEMBER_DATA..." >&2
    exit 2
fi
hub="$1"
shift

for member in "$@"; do
    if maillon peers --data "$member" | grep -q '^  upstream '; then
        echo "$member: already has a hub"
        continue
    fi
    line=$(maillon invite --data "$hub" --days 1 --note "compose enrol $member" | sed -n 's/^ *maillon join //p')
    if [ -z "$line" ]; then
        echo "maillon-enrol: the hub in $hub printed no invitation" >&2
        exit 1
    fi
    # The line is `URL --token T --fingerprint F`, none of them holding a space.
    # shellcheck disable=SC2086
    maillon join --data "$member" $line
done
