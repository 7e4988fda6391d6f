#!/bin/sh
# First start: create the data directory. Every start: make sure the database and the user exist
# (an --init-file runs before connections are accepted), then run the server in the foreground.
set -eu
# MARIADB_*_PASSWORD_FILE, as the official image reads them (docker-compose.yml passes files from its secrets)
[ -n "${MARIADB_ROOT_PASSWORD_FILE:-}" ] && MARIADB_ROOT_PASSWORD=$(cat "$MARIADB_ROOT_PASSWORD_FILE")
[ -n "${MARIADB_PASSWORD_FILE:-}" ] && MARIADB_PASSWORD=$(cat "$MARIADB_PASSWORD_FILE")
data=/var/lib/mysql
if [ ! -d "$data/mysql" ]; then
  mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
fi
db=${MARIADB_DATABASE:-stratus}
init=/run/mysqld/init.sql
{
  echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required}';"
  echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}';"
  echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
  echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"
  if [ -n "${MARIADB_USER:-}" ]; then
    echo "CREATE USER IF NOT EXISTS '${MARIADB_USER}'@'%' IDENTIFIED BY '${MARIADB_PASSWORD:-}';"
    echo "GRANT ALL ON \`$db\`.* TO '${MARIADB_USER}'@'%';"
  fi
} >"$init"
chown mysql:mysql "$init"
chmod 600 "$init"
exec mariadbd --user=mysql --datadir="$data" --bind-address=0.0.0.0 --port=3306 --skip-name-resolve \
  --init-file="$init" "$@"
