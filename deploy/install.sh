#!/usr/bin/env bash
# Install the production service definitions on the county's Debian server (systemd).
#   1. as root, in the checkout (e.g. /opt/yijianshi): `make setup` (venvs, model, index)
#   2. `sudo deploy/install.sh`            renders and installs the units, then starts them
# What it does: creates the system user `yijianshi`, writes /etc/yijianshi/env with fresh
# random secrets (only if it does not exist), installs deploy/systemd/* into /etc/systemd/system
# with /opt/yijianshi replaced by this checkout's path, installs the journald size cap, then
# `systemctl enable --now yijianshi.target`. Safe to run again.
# Options: --no-start (install only), --dest DIR (render the units into DIR and stop; used by
# the tests to check them with `systemd-analyze verify`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "install: $*" >&2; exit 1; }

START=1
DEST=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-start) START=0 ;;
    --dest) DEST="${2:-}"; [[ -n "$DEST" ]] || die "--dest needs a directory."; shift ;;
    *) die "unknown option $1 (use --no-start or --dest DIR)." ;;
  esac
  shift
done

render() {  # $1 = target directory
  mkdir -p "$1"
  for unit in "$ROOT"/deploy/systemd/*; do
    sed "s#/opt/yijianshi#$ROOT#g" "$unit" > "$1/$(basename "$unit")"
  done
}

if [[ -n "$DEST" ]]; then render "$DEST"; exit 0; fi

[[ "$(id -u)" == 0 ]] || die "run it as root (sudo deploy/install.sh)."
command -v systemctl >/dev/null || die "systemd is not available on this machine; use 'make run' instead."
command -v redis-server >/dev/null || die "redis-server is missing: run 'make setup' first."
[[ -x "$ROOT/.venv/app/bin/python" && -x "$ROOT/.venv/rasa/bin/python" && -e "$ROOT/models/current.tar.gz" ]] \
  || die "the virtual environments or the trained model are missing: run 'make setup' in $ROOT first."

id yijianshi >/dev/null 2>&1 || useradd --system --home-dir /var/lib/yijianshi --shell /usr/sbin/nologin yijianshi
install -d -m 0755 /etc/yijianshi
if [[ ! -f /etc/yijianshi/env ]]; then
  umask 077
  sed -e "s/^RASA_TOKEN=.*/RASA_TOKEN=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
      -e "s/^ACTION_SERVER_TOKEN=.*/ACTION_SERVER_TOKEN=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
      "$ROOT/deploy/env.example" > /etc/yijianshi/env
  echo "install: wrote /etc/yijianshi/env with fresh secrets"
fi
chmod 600 /etc/yijianshi/env
render /etc/systemd/system
install -D -m 0644 "$ROOT/deploy/journald/yijianshi.conf" /etc/systemd/journald.conf.d/yijianshi.conf
systemctl daemon-reload
systemctl restart systemd-journald
systemctl enable yijianshi.target yijianshi-redis.service yijianshi-actions.service \
  yijianshi-rasa.service yijianshi-gateway.service yijianshi-telegram.service yijianshi-watchdog.service
if [[ "$START" == 1 ]]; then
  systemctl start yijianshi.target
  echo "install: started; check with 'systemctl status yijianshi-*' and 'curl -s 127.0.0.1:8080/healthz'"
fi
