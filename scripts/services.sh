#!/usr/bin/env bash
# Starts MariaDB and Redis on this machine if they are not answering. Used by `make test`.
set -euo pipefail
if ! mysqladmin -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
  echo "Starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do mysqladmin -h127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  redis-server --daemonize yes --port 6379 --save "" --appendonly no
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
mysqladmin -h127.0.0.1 -uroot ping >/dev/null
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
