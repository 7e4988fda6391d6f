#!/bin/sh
# Runs one Stratus service (gateway | controller | invoker), or any other command given.
# Each replica needs its own identity: unless STRATUS_<ROLE>_ID is set, it is the container's id
# (from the mounts Docker made for it; also right under network_mode: host, where the hostname is
# the host's), else the hostname.
#
# Secrets (docker-compose.yml): `secrets` writes the stores' passwords to $secrets once (given ones, or random);
# every service fills the {name_password} placeholders of its STRATUS_*_URL settings from there.
set -eu
role=${1:-gateway}
secrets=${STRATUS_SECRETS_DIR:-/run/stratus/secrets}
names="redis mongo mysql mysql_root"

write_secrets() {
  umask 022  # readable by the stores' own users; the volume is mounted into the stack's containers only
  # Redis (its own user, whatever its id in the image) makes its socket here; only the stack mounts it
  if [ -d /run/stratus/redis ]; then chmod 1777 /run/stratus/redis; fi
  for name in $names; do
    var=STRATUS_$(echo "$name" | tr a-z A-Z)_PASSWORD
    given=$(printenv "$var" || true)
    file="$secrets/${name}_password"
    if [ -n "$given" ]; then
      case "$given" in *[!A-Za-z0-9._~-]*) echo "$var: letters, digits and . _ ~ - only" >&2; exit 2 ;; esac
      printf '%s' "$given" > "$file"
    elif [ ! -s "$file" ]; then
      python3 -c 'import secrets; print(secrets.token_hex(24), end="")' > "$file"
      echo "stratus-service: generated $file" >&2
    fi
  done
}

fill_urls() {
  [ -d "$secrets" ] || return 0
  for name in redis mongo mysql; do
    file="$secrets/${name}_password"
    [ -s "$file" ] || continue
    value=$(cat "$file")  # checked by write_secrets: nothing sed or a URL would read specially
    for var in STRATUS_REDIS_URL STRATUS_MONGO_URL STRATUS_ENTITIES_URL; do
      current=$(printenv "$var" || true)
      [ -n "$current" ] && export "$var=$(printf '%s' "$current" | sed "s/{${name}_password}/$value/g")"
    done
  done
  return 0
}

container_id() {
  sed -n 's|.*/containers/\([0-9a-f]\{64\}\)/.*|\1|p' /proc/self/mountinfo 2>/dev/null | head -n 1 | cut -c1-12
}
identity() {
  id=$(container_id)
  echo "$role-${id:-$(hostname)}"
}
case "$role" in
  secrets)
    write_secrets
    exit 0 ;;
  check-redis)
    fill_urls
    exec python3 -c "import os, redis; redis.Redis.from_url(os.environ['STRATUS_REDIS_URL']).ping()" ;;
  gateway)
    export STRATUS_GATEWAY_ID="${STRATUS_GATEWAY_ID:-$(identity)}" ;;
  controller)
    export STRATUS_CONTROLLER_ID="${STRATUS_CONTROLLER_ID:-$(identity)}" ;;
  invoker)
    export STRATUS_INVOKER_ID="${STRATUS_INVOKER_ID:-$(identity)}" ;;
  *)
    fill_urls
    exec "$@" ;;
esac
fill_urls
# compose starts the services once the stores' containers started, not once they answer: wait here
python3 -m core.stores.wait
echo "stratus-service: $role starting as $(env | sed -n 's/^STRATUS_[A-Z]*_ID=//p' | head -n 1)" >&2
exec python3 -m "$role"
