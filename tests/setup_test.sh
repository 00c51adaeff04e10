#!/usr/bin/env bash
# setup_test.sh ROOT
# scripts/setup, with dpkg-query, id and apt-get replaced by stubs: quiet when all is
# installed, the exact command when not root, the install when root.
set -u
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Stubs: dpkg-query says installed for every package not in $MISSING; id -u prints
# $FAKE_UID; apt-get records its arguments.
mkdir "$tmp/stubs"
cat >"$tmp/stubs/dpkg-query" <<'STUB'
#!/usr/bin/env bash
pkg=${!#}
[[ " $MISSING " == *" $pkg "* ]] && exit 1
printf 'install ok installed'
STUB
printf '#!/bin/sh\necho "$FAKE_UID"\n' >"$tmp/stubs/id"
printf '#!/bin/sh\necho "apt-get $*" >>"$APT_LOG"\n' >"$tmp/stubs/apt-get"
chmod +x "$tmp/stubs"/*
export PATH=$tmp/stubs:$PATH APT_LOG=$tmp/apt.log

out=$(MISSING="" FAKE_UID=1000 "$root/scripts/setup" 2>&1)
[[ $? == 0 && -z $out && ! -e $APT_LOG ]] || fail "all installed: '$out'"

out=$(MISSING="check valgrind" FAKE_UID=1000 "$root/scripts/setup" 2>"$tmp/err")
status=$?
[[ $status == 1 ]] || fail "not root: status $status"
[[ $out == "  sudo apt-get update && sudo apt-get install -y --no-install-recommends check valgrind" ]] ||
    fail "not root: the command printed is '$out'"
grep -q 'missing Debian packages: check valgrind' "$tmp/err" || fail "not root: $(<"$tmp/err")"
[[ ! -e $APT_LOG ]] || fail "not root, yet apt-get ran"

out=$(MISSING="cmake" FAKE_UID=0 "$root/scripts/setup" 2>&1)
[[ $? == 0 && $out == *"installing cmake"* ]] || fail "root: '$out'"
[[ $(<"$APT_LOG") == $'apt-get update -q\napt-get install -y --no-install-recommends cmake' ]] ||
    fail "root: apt-get got $(<"$APT_LOG")"

# Every package named exists in Debian 12 under that name (the real dpkg knows them all
# here, since this machine was set up by the script).
PATH=${PATH#"$tmp/stubs:"}
for p in $(sed 's/#.*//' "$root/scripts/packages" | awk 'NF { print $1 }'); do
    dpkg-query -W "$p" >/dev/null 2>&1 || fail "$p is in scripts/packages but not installed"
done
echo "setup behaves"
