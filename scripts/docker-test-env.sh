#!/usr/bin/env bash
# Brings a Docker engine up for the containers.docker suite and down again.
#
#   docker-test-env.sh ping                 exit 0 if an engine answers
#   docker-test-env.sh up GATEWAY [DIR]     engine + image zaki/gateway-stub:test
#   docker-test-env.sh down [DIR] [LABEL]   remove test containers, stop what
#                                           `up` started
#
# `up` reuses an engine that already answers /var/run/docker.sock (never a
# second dockerd in one network namespace: it breaks the first one's
# bridge); otherwise it installs docker.io if missing (with the package's
# service start blocked: PID 1 is not systemd here) and starts dockerd in
# the background on DIR with a pid file. The image holds only the static
# test gateway. Exit code 77 means "no engine can run here" (the suite then
# reports SKIPPED with the reason printed on stderr).
set -euo pipefail

SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
IMAGE=zaki/gateway-stub:test
cmd=${1:-}

ping_engine() {
  [ -S "$SOCK" ] || return 1
  if command -v curl >/dev/null; then
    [ "$(curl -s --max-time 2 --unix-socket "$SOCK" http://localhost/_ping)" = OK ]
  else
    timeout 3 docker -H "unix://$SOCK" version >/dev/null 2>&1
  fi
}

skip() { echo "docker-test-env: $*" >&2; exit 77; }

case "$cmd" in
  ping)
    ping_engine
    ;;
  up)
    GATEWAY=${2:?usage: docker-test-env.sh up GATEWAY [DIR]}
    DIR=${3:-/var/tmp/zaki-docker-test}
    mkdir -p "$DIR"
    if ! ping_engine; then
      [ "$(id -u)" = 0 ] || skip "not root: cannot start dockerd"
      if ! command -v dockerd >/dev/null; then
        blocker=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
          printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
          chmod +x /usr/sbin/policy-rc.d
          blocker=1
        fi
        echo "docker-test-env: installing docker.io" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y \
          --no-install-recommends docker.io >"$DIR/apt.log" 2>&1 \
          || { if [ -n "$blocker" ]; then rm -f /usr/sbin/policy-rc.d; fi
               skip "apt-get install docker.io failed (see $DIR/apt.log)"; }
        if [ -n "$blocker" ]; then rm -f /usr/sbin/policy-rc.d; fi
      fi
      echo "docker-test-env: starting dockerd on $DIR" >&2
      nohup dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" \
        --pidfile "$DIR/dockerd.pid" -H "unix://$SOCK" \
        >"$DIR/dockerd.log" 2>&1 &
      echo started >"$DIR/started-by-us"
      for _ in $(seq 120); do ping_engine && break; sleep 0.25; done
      ping_engine || skip "dockerd did not answer within 30 s (see $DIR/dockerd.log)"
    fi
    rootfs="$DIR/rootfs"
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    cp "$GATEWAY" "$rootfs/gateway"
    tar -C "$rootfs" -cf "$DIR/rootfs.tar" .
    docker -H "unix://$SOCK" import \
      -c 'CMD ["/gateway", "--bind", "0.0.0.0"]' -c 'EXPOSE 18789' \
      "$DIR/rootfs.tar" "$IMAGE" >/dev/null \
      || skip "docker import failed"
    echo "ready socket=$SOCK image=$IMAGE"
    ;;
  down)
    DIR=${2:-/var/tmp/zaki-docker-test}
    LABEL=${3:-}
    if ping_engine; then
      filter="label=zaki.test${LABEL:+=$LABEL}"
      ids=$(docker -H "unix://$SOCK" ps -aq --filter "$filter" || true)
      [ -z "$ids" ] || docker -H "unix://$SOCK" rm -f $ids >/dev/null || true
    fi
    if [ -f "$DIR/started-by-us" ] && [ -f "$DIR/dockerd.pid" ]; then
      pid=$(cat "$DIR/dockerd.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$DIR/started-by-us" "$SOCK"
      echo "docker-test-env: stopped dockerd" >&2
    fi
    ;;
  *)
    echo "usage: $0 ping | up GATEWAY [DIR] | down [DIR] [LABEL]" >&2
    exit 2
    ;;
esac
