#!/usr/bin/env bash
# check-adapter-imports.sh — keep the arrows between layers where they belong.
#
#   - An adapter (adapters/<name>, with its subpackages) imports no other
#     adapter: adapters/notify/slack may use adapters/notify/notifyerr (both
#     are the notify adapter), not adapters/postgres.
#   - commands, projections and processes (the application core around the
#     domain) import no adapter at all: they see the outside world through
#     interfaces declared where they are used, and cmd wires the adapters in.
#
# Only non-test imports are checked, as in check-domain-imports.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

module=$(go list -m)
adapters="$module/adapters"

# One line per package: "<import path> <import> <import> ...". A pattern
# that matches no package (processes, before it exists) is left out.
patterns=(./adapters/... ./commands/... ./projections/...)
[ -d processes ] && patterns+=(./processes/...)
listing=$(go list -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' "${patterns[@]}")

# adapterOf prints the adapter a path belongs to (module/adapters/<name>),
# or nothing when it is not under adapters/.
adapterOf() {
  case "$1" in
    "$adapters"/*)
      local rest=${1#"$adapters"/}
      echo "$adapters/${rest%%/*}"
      ;;
  esac
}

bad=0
while read -r pkg imports; do
  [ -n "$pkg" ] || continue
  own=$(adapterOf "$pkg")
  for imp in $imports; do
    theirs=$(adapterOf "$imp")
    [ -n "$theirs" ] || continue
    if [ -z "$own" ]; then
      echo "layering: $pkg imports the adapter $imp: commands, projections and processes import no adapter (declare an interface, let cmd wire it)" >&2
      bad=1
    elif [ "$own" != "$theirs" ]; then
      echo "layering: $pkg imports $imp: an adapter imports no other adapter" >&2
      bad=1
    fi
  done
done <<<"$listing"

if [ "$bad" -ne 0 ]; then
  echo "adapter import check FAILED: remove the imports above" >&2
  exit 1
fi
echo "adapter imports: ok ($(grep -c . <<<"$listing") package(s) checked)" >&2
