#!/usr/bin/env bash
# Starts the services the tests talk to when they are not answering: PostgreSQL on
# 127.0.0.1:5432 (registry on PostgreSQL, migrations) and Redis on 127.0.0.1:6379
# (the distributed worker's broker). Machines of this project's kind have both
# installed and running; this only brings back one that was stopped.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "==> starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q .; then
    read -r version cluster _ < <(pg_lsclusters -h | head -1)
    pg_ctlcluster "$version" "$cluster" start || true
  else
    service postgresql start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432"; exit 1; }
fi

if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "==> starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" >/dev/null
fi
