#!/usr/bin/env bash
# What `npm test` needs on a fresh machine, done by `npm test` itself (npm's pretest hook): the Debian
# packages the tests use, installed when missing (as root; otherwise one line says what to install),
# then the test servers, built from their pinned Go modules and cached by version (testbin.sh), so a
# warm run costs a second. KMSSTACK_SKIP_SETUP=1 skips all of it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ ${KMSSTACK_SKIP_SETUP:-} == 1 ]] && exit 0

# openssl: certificate checks; lua5.1: the Argo CD health check; util-linux and iproute2: namespaces.
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v lua5.1 >/dev/null || need+=(lua5.1)
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
if [[ ${#need[@]} -gt 0 ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]} (Debian packages the tests use)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null
  else
    echo "setup: missing ${need[*]}: install them (e.g. sudo apt-get install -y ${need[*]}); tests that need them will fail naming them" >&2
  fi
fi

bash "$here/testbin.sh"
