# PostgreSQL for scripts/test and scripts/bench: as root the system cluster (installed and started with the
# Debian wrappers), as another user a throwaway server in a temporary directory. Sourced, not run; the caller
# defines log(). Sets NOORG_TEST_POSTGRES (an admin connection string); call postgres_cleanup on exit.
tmp_pg=""
postgres_cleanup() {
  if [ -n "$tmp_pg" ] && [ -d "$tmp_pg" ]; then
    "$pg_bin/pg_ctl" -D "$tmp_pg/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$tmp_pg"
  fi
}
pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

start_postgres_as_root() {
  if [ -z "$(pg_bin_dir)" ]; then
    log "installing PostgreSQL (Debian package)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || return 1
  fi
  local version
  version=$(basename "$(dirname "$(pg_bin_dir)")")
  pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$version main$" || pg_createcluster "$version" main >/dev/null || return 1
  # Many test clusters share one server: allow more connections than Debian's default 100.
  if ! grep -q '^max_connections = 400' "/etc/postgresql/$version/main/conf.d/noorg-test.conf" 2>/dev/null; then
    mkdir -p "/etc/postgresql/$version/main/conf.d"
    echo "max_connections = 400" > "/etc/postgresql/$version/main/conf.d/noorg-test.conf"
    pg_ctlcluster "$version" main restart 2>/dev/null || true
  fi
  pg_ctlcluster "$version" main start 2>/dev/null || true   # exit 2 means already running
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || return 1
  su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<'SQL' || return 1
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'noorg_test') THEN
    CREATE ROLE noorg_test LOGIN CREATEDB PASSWORD 'noorg_test';
  END IF;
END $$;
SQL
  export NOORG_TEST_POSTGRES="Host=127.0.0.1;Port=5432;Username=noorg_test;Password=noorg_test;Database=postgres"
}

start_postgres_as_user() {
  pg_bin=$(pg_bin_dir)
  [ -n "$pg_bin" ] || { log "PostgreSQL is not installed and this user cannot install it (apt-get install postgresql as root)"; return 1; }
  tmp_pg=$(mktemp -d)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  "$pg_bin/initdb" -D "$tmp_pg/data" -A trust -U postgres >/dev/null || return 1
  "$pg_bin/pg_ctl" -D "$tmp_pg/data" -l "$tmp_pg/log" -w \
    -o "-p $port -k $tmp_pg -c listen_addresses=127.0.0.1 -c max_connections=400" start >/dev/null || return 1
  export NOORG_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
}

