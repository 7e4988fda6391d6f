#!/bin/sh
# Runs one Stratus service (gateway | controller | invoker), or any other command given.
# Each replica needs its own identity: unless STRATUS_<ROLE>_ID is set, it is the container's id
# (from the mounts Docker made for it; also right under network_mode: host, where the hostname is
# the host's), else the hostname.
set -eu
role=${1:-gateway}
container_id() {
  sed -n 's|.*/containers/\([0-9a-f]\{64\}\)/.*|\1|p' /proc/self/mountinfo 2>/dev/null | head -n 1 | cut -c1-12
}
identity() {
  id=$(container_id)
  echo "$role-${id:-$(hostname)}"
}
case "$role" in
  gateway)
    export STRATUS_GATEWAY_ID="${STRATUS_GATEWAY_ID:-$(identity)}" ;;
  controller)
    export STRATUS_CONTROLLER_ID="${STRATUS_CONTROLLER_ID:-$(identity)}" ;;
  invoker)
    export STRATUS_INVOKER_ID="${STRATUS_INVOKER_ID:-$(identity)}" ;;
  *)
    exec "$@" ;;
esac
echo "stratus-service: $role starting as $(env | sed -n 's/^STRATUS_[A-Z]*_ID=//p' | head -n 1)" >&2
exec python3 -m "$role"
