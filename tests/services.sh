#!/usr/bin/env bash
# The real backing services of the test suite, on 127.0.0.1 only, owned by one directory:
#   bash tests/services.sh start DIR   # idempotent; writes DIR/env with the STRATUS_* URLs
#   bash tests/services.sh stop DIR
# redis-server and MariaDB come from Debian packages (installed when missing); SecantusDB (PyPI,
# installed by `pip install -e '.[test]'`) speaks the MongoDB wire protocol.
set -euo pipefail

cmd=${1:?usage: services.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: services.sh start|stop DIR}" && cd "$2" && pwd)
REDIS_PORT=${STRATUS_TEST_REDIS_PORT:-6390}
MYSQL_PORT=${STRATUS_TEST_MYSQL_PORT:-3390}
MONGO_PORT=${STRATUS_TEST_MONGO_PORT:-27090}
PYTHON=${PYTHON:-python3}

say() { printf '  %s\n' "$*"; }
die() { printf 'services.sh: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port logfile seconds
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    port_open "$2" && return 0
    sleep 0.1
  done
  printf '%s did not come up on 127.0.0.1:%s; the end of %s:\n' "$1" "$2" "$3" >&2
  tail -n 30 "$3" >&2 || true
  die "fix the problem above, then run: bash tests/services.sh start $dir"
}

ensure_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || missing+=(mariadb-server)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || die "could not install ${missing[*]}; install them with apt-get and retry"
  fi
}

start_redis() {
  if port_open "$REDIS_PORT"; then say "redis already up on $REDIS_PORT"; return; fi
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null
  wait_port redis "$REDIS_PORT" "$dir/redis.log" 20
  say "redis up on 127.0.0.1:$REDIS_PORT"
}

start_mariadb() {
  if port_open "$MYSQL_PORT"; then say "mariadb already up on $MYSQL_PORT"; return; fi
  local data="$dir/mysql"
  if [ ! -d "$data/mysql" ]; then
    mkdir -p "$data"
    mariadb-install-db --no-defaults --user=root --datadir="$data" --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/mariadb-install.log" 2>&1 || { tail -n 20 "$dir/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
  fi
  local daemon
  daemon=$(command -v mariadbd || command -v mysqld)
  nohup "$daemon" --no-defaults --user=root --datadir="$data" --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
    --socket="$dir/mysql.sock" --pid-file="$dir/mysql.pid" --skip-name-resolve --log-error="$dir/mariadb.log" \
    --innodb-buffer-pool-size=128M --max-allowed-packet=64M --innodb-flush-log-at-trx-commit=2 \
    >/dev/null 2>&1 &
  wait_port mariadb "$MYSQL_PORT" "$dir/mariadb.log" 60
  say "mariadb up on 127.0.0.1:$MYSQL_PORT"
}

start_mongo() {
  if port_open "$MONGO_PORT"; then say "secantusdb already up on $MONGO_PORT"; return; fi
  "$PYTHON" -c 'import secantus' 2>/dev/null || die "SecantusDB is missing: pip install -e '.[test]'"
  mkdir -p "$dir/mongo"
  nohup "$PYTHON" -m secantus --host 127.0.0.1 --port "$MONGO_PORT" --storage-path "$dir/mongo" \
    --log-level WARNING >"$dir/mongo.log" 2>&1 &
  echo $! >"$dir/mongo.pid"
  wait_port secantusdb "$MONGO_PORT" "$dir/mongo.log" 60
  say "secantusdb (MongoDB wire protocol) up on 127.0.0.1:$MONGO_PORT"
}

stop_pidfile() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}

case "$cmd" in
  start)
    ensure_packages
    start_redis
    start_mariadb
    start_mongo
    cat >"$dir/env" <<ENV
export STRATUS_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export STRATUS_MONGO_URL='mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true'
export STRATUS_MYSQL_URL=mysql+aiomysql://root@127.0.0.1:$MYSQL_PORT/
ENV
    say "wrote $dir/env"
    ;;
  stop)
    stop_pidfile "$dir/redis.pid"
    stop_pidfile "$dir/mysql.pid"
    stop_pidfile "$dir/mongo.pid"
    say "stopped"
    ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
