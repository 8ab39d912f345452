#!/usr/bin/env bash
# Run this checkout's pre-commit hooks (.pre-commit-hooks.yaml) on a scratch repository
# with one badly laid out and one broken `.terr` file, the way a user's repo would.
# Expects: terrl-fmt rewrites the ugly file and fails (files changed), terrl-check fails
# on the broken one. Prints what happened; exits 0 when both behave, 1 otherwise.
# Only committed changes to the hook manifest are seen (pre-commit clones the repo).
set -u
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q . && git config user.email t@example.com && git config user.name t
printf 'segment  a=x==1\n' > ugly.terr
printf 'schema A { id: string key  n: int }\nmodel M { territory a { where m > 0 } territory b { else } }\n' > broken.terr
git add ugly.terr broken.terr

pre-commit try-repo "$here" terrl-fmt --files ugly.terr > fmt.log 2>&1
fmt_status=$?
pre-commit try-repo "$here" terrl-check --files broken.terr > check.log 2>&1
check_status=$?
cat fmt.log check.log

ok=0
if [ "$fmt_status" -ne 1 ] || [ "$(cat ugly.terr)" != "segment a = x == 1" ]; then
  echo "FAIL: terrl-fmt (status $fmt_status, ugly.terr now: $(cat ugly.terr))"; ok=1
fi
if [ "$check_status" -ne 1 ] || ! grep -q "E101" check.log; then
  echo "FAIL: terrl-check (status $check_status)"; ok=1
fi
[ "$ok" -eq 0 ] && echo "pre-commit hooks: OK"
exit "$ok"
