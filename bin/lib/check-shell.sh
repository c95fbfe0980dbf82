#!/usr/bin/env bash
# bin/test's shell lint: shellcheck (Debian's, at its default severity, following the
# files each script sources) over every shell script of the repository: bin/*, bin/lib/,
# .ci/run, tests/pack/stack and tests/pack/lib/, tests/e2e and tests/frameworks, the
# fixture buildpacks and apps, tests/support/ids.sh. A script is any tracked file named
# *.sh or whose first line is a sh or bash shebang or a `# shellcheck shell=` directive,
# so a new script is checked without being listed here.
#
# Two controls, so that the lint cannot pass by checking nothing: the list must hold the
# scripts named above, and shellcheck must fail a script with a known warning (SC2086, an
# unquoted expansion).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bin/lib/prerequisites.sh

need_packages shellcheck git

scripts=()
while IFS= read -r -d '' file; do
  [ -f "$file" ] || continue
  case "$file" in
    *.sh) scripts+=("$file") ;;
    *) if head -n 1 "$file" | grep -qE '^#!(/usr/bin/env |/bin/|/usr/bin/)(ba)?sh( |$)|^# shellcheck shell='; then
         scripts+=("$file")
       fi ;;
  esac
done < <(git ls-files -z)

for expected in .ci/run bin/test bin/lib/prerequisites.sh tests/pack/stack tests/pack/lib/daemon.sh \
  tests/e2e/cnb tests/frameworks/suite; do
  [[ " ${scripts[*]} " == *" $expected "* ]] || die "control: the shell lint's list of scripts misses $expected"
done

control=$(mktemp -d)
trap 'rm -rf "$control"' EXIT
cat >"$control/warned.sh" <<'SCRIPT'
#!/bin/sh
# a known warning: SC2086, an unquoted expansion
rm $1
SCRIPT
if shellcheck "$control/warned.sh" >/dev/null 2>&1; then
  die "control: shellcheck passed a script with a warning (SC2086); the lint checks nothing"
fi

say "shellcheck $(shellcheck --version | awk '/^version:/ { print $2 }') over ${#scripts[@]} scripts"
shellcheck --external-sources "${scripts[@]}" \
  || die "shellcheck reported the warnings above; fix them (or, where the code is right, disable the one check on that line with a reason: # shellcheck disable=SCnnnn # why)"
