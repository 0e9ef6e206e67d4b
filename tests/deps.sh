#!/bin/sh
# deps.sh — install every build and test dependency from Debian's packages.
# Idempotent: skips apt-get entirely when everything is already present.
set -e
# clang and libclang-rt-dev are for `make fuzz` only: libFuzzer's runtime
# (libclang_rt.fuzzer*.a) is in libclang-rt-14-dev, which clang merely
# recommends, and this installs without recommends.
PKGS="build-essential pkg-config libsqlite3-dev libcurl4-openssl-dev libcjson-dev \
libzstd-dev libcmocka-dev libmicrohttpd-dev sqlite3 zstd curl ca-certificates procps \
clang libclang-rt-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all present"; exit 0; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
