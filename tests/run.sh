#!/usr/bin/env bash
# The one test entry point: README's second command, and what .ci/run calls.
# Installs what the suite needs (Python packages, redis-server, mariadb-server, debootstrap, and
# chromium + chromium-driver for the web console's browser tests),
# starts the real backing services on loopback, builds the images offline, then runs pytest.
# Extra arguments go to pytest, e.g. `bash tests/run.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

missing=()
dpkg -s redis-server >/dev/null 2>&1 || missing+=(redis-server)  # Debian's: built with TLS (test_redis_lane.py)
command -v mariadbd >/dev/null || command -v mysqld >/dev/null || missing+=(mariadb-server)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if ((${#missing[@]})); then
  step "Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "Python packages"
python3 -m pip install -q -e '.[test]'

step "Backing services (redis-server, MariaDB, SecantusDB) on 127.0.0.1"
services_dir=${STRATUS_SERVICES_DIR:-/tmp/stratus-test-services}
bash tests/services.sh start "$services_dir"
# shellcheck disable=SC1091
source "$services_dir/env"

step "Runtime images of every kind (offline builds; a no-op when nothing changed)"
python3 -m standalone image build --all

step "Tests"
python3 -m pytest "$@"
