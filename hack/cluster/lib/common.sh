# shellcheck shell=bash
# common.sh — shared helpers of cluster.sh: logging, ports, processes, waiting.
# Sourced, not executed.

log() { printf '[cluster %s %s] %s\n' "$NAME" "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# proc_start_time PID — the start time (clock ticks since boot) of PID, which
# together with the PID identifies one process even after PID reuse.
# A zombie counts as gone: nothing reaps orphans on this machine kind (PID 1 is not
# an init), so a killed component stays a zombie forever.
proc_start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  [[ $1 == Z || $1 == X ]] && return 1
  echo "${20}"
}

# start_proc COMPONENT CMD... — start CMD in its own session, logging to
# $LOGS/COMPONENT.log, and record "PID STARTTIME" in $PIDS/COMPONENT.pid.
start_proc() {
  local comp="$1"; shift
  setsid "$@" >"$LOGS/$comp.log" 2>&1 </dev/null &
  local pid=$!
  local st=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do st="$(proc_start_time "$pid")" && break; sleep 0.05; done
  echo "$pid $st" >"$PIDS/$comp.pid"
  log "started $comp (pid $pid), log $LOGS/$comp.log"
}

# proc_alive COMPONENT — true while the recorded process is still the one started.
proc_alive() {
  local f="$PIDS/$1.pid" pid st
  [[ -f $f ]] || return 1
  read -r pid st <"$f" || return 1
  [[ -n $pid && "$(proc_start_time "$pid" 2>/dev/null)" == "$st" ]]
}

# stop_proc COMPONENT [GRACE_SECONDS] — SIGTERM, then SIGKILL, the recorded process only.
stop_proc() {
  local comp="$1" grace="${2:-10}" f="$PIDS/$1.pid" pid st i
  [[ -f $f ]] || return 0
  read -r pid st <"$f" || true
  if proc_alive "$comp"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do proc_alive "$comp" || break; sleep 0.1; done
    if proc_alive "$comp"; then
      log "$comp (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do proc_alive "$comp" || break; sleep 0.1; done
    fi
    log "stopped $comp (pid $pid)"
  fi
  rm -f "$f"
}

# wait_for DESCRIPTION TIMEOUT_SECONDS COMPONENT CMD... — poll CMD until it succeeds;
# fail early when COMPONENT's process died.
wait_for() {
  local what="$1" timeout="$2" comp="$3"; shift 3
  local t0=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [[ -n $comp ]] && ! proc_alive "$comp"; then
      log "$comp exited while waiting for $what"
      return 1
    fi
    if ((SECONDS - t0 >= timeout)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.3
  done
  log "$what ready after $((SECONDS - t0))s"
}

# print_log_tails — the last lines of every component log, for failed runs.
print_log_tails() {
  local f
  for f in "$LOGS"/*.log; do
    [[ -f $f ]] || continue
    printf '\n===== %s (last %s lines) =====\n' "$f" "${RUNLENS_CLUSTER_TAIL:-40}" >&2
    tail -n "${RUNLENS_CLUSTER_TAIL:-40}" "$f" >&2
  done
}

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# pick_ports — choose a block of 10 free loopback ports from a hash of the name, so
# several clusters run side by side. Sets BASE_PORT and SLOT.
pick_ports() {
  local h slot p ok
  h="$(printf '%s' "$NAME" | cksum | cut -d' ' -f1)"
  for ((try = 0; try < 200; try++)); do
    slot=$(((h + try) % 800))
    BASE_PORT=$((21000 + slot * 10))
    ok=1
    for ((p = BASE_PORT; p < BASE_PORT + 10; p++)); do port_in_use "$p" && { ok=0; break; }; done
    # A slot already claimed by another cluster's env file is taken too.
    if ((ok)) && grep -qs "^BASE_PORT=$BASE_PORT\$" "$RUN_ROOT"/*/cluster.env; then ok=0; fi
    if ((ok)); then SLOT=$slot; return 0; fi
  done
  die "no free block of 10 loopback ports"
}

# ensure_packages — install the Debian packages the mode needs, when missing.
ensure_packages() {
  local missing=() pkg
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  command -v ss >/dev/null || missing+=(iproute2)
  if [[ $MODE == full ]]; then
    command -v containerd >/dev/null || missing+=(containerd)
    command -v runc >/dev/null || missing+=(runc)
    [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
  fi
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$RUN_ROOT/apt-$NAME.log" 2>&1 ||
    { cat "$RUN_ROOT/apt-$NAME.log" >&2; die "apt-get install ${missing[*]} failed"; }
  for pkg in "${missing[@]}"; do log "installed $pkg"; done
}
