#!/usr/bin/env bash
# check-domain-imports.sh — keep the domain core pure.
#
# The packages under ./domain/... may import the standard library and each
# other, but not the rest of this module (adapters, commands, projections,
# cmd, ...), nor anything that does I/O on their behalf: database/sql, net/http,
# os (and their subpackages), github.com/lib/pq, github.com/jmoiron/sqlx.
# Only non-test imports are checked (the same list as
# `go list -f '{{join .Imports "\n"}}' ./domain/...`).
set -euo pipefail
cd "$(dirname "$0")/.."

module=$(go list -m)
domain="$module/domain"

# One line per package: "<import path> <import> <import> ...".
listing=$(go list -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' ./domain/...)

bad=0
while read -r pkg imports; do
  [ -n "$pkg" ] || continue
  for imp in $imports; do
    why=""
    case "$imp" in
      "$domain" | "$domain"/*) ;;
      "$module" | "$module"/*) why="another package of this module (the domain must not depend on it)" ;;
      database/sql | database/sql/*) why="database access belongs in an adapter" ;;
      net/http | net/http/*) why="HTTP belongs in an adapter" ;;
      os | os/*) why="the OS (files, env, processes) belongs in an adapter or cmd" ;;
      github.com/lib/pq | github.com/lib/pq/*) why="a PostgreSQL driver belongs in an adapter" ;;
      github.com/jmoiron/sqlx | github.com/jmoiron/sqlx/*) why="database access belongs in an adapter" ;;
    esac
    if [ -n "$why" ]; then
      echo "domain purity: $pkg imports $imp: $why" >&2
      bad=1
    fi
  done
done <<<"$listing"

if [ "$bad" -ne 0 ]; then
  echo "domain purity check FAILED: remove the imports above from ./domain/..." >&2
  exit 1
fi
echo "domain purity: ok ($(grep -c . <<<"$listing") package(s) under ./domain/...)" >&2
