#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests and for trying `journey submit`.
#
#   slurm/local-cluster.sh up       start munged, slurmctld and slurmd; wait for the node
#   slurm/local-cluster.sh down     stop what `up` started (and nothing else)
#   slurm/local-cluster.sh status   what runs, and the node as Slurm sees it
#   slurm/local-cluster.sh env      print the export line the Slurm commands need
#
# Everything lives under one state directory, $JOURNEY_SLURM_DIR (default: .cache/slurm in
# the repository): slurm.conf, a munge key and socket of its own (AuthInfo=socket=...), the
# daemons' pid files, spool, state and logs. The daemons are found again through their pid
# files, and a pid is only trusted while its command line still names this state directory,
# so `up` twice starts nothing new and `down` never stops a system munged or slurmd.
# Slurm commands read the cluster from SLURM_CONF: `up` and `env` print the line to export.
#
# No cgroups (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none), so it runs in
# containers. It needs root, as slurmd does. Ports: $JOURNEY_SLURM_PORT (default 16817) for
# slurmctld and the next one for slurmd, away from a system Slurm's 6817/6818. The node
# offers max(nproc, $JOURNEY_SLURM_CPUS or 8) CPUs (SlurmdParameters=config_overrides), so
# a 2-core machine can hold a coordinator and several worker groups. `up` starts slurmctld
# with a clean state: jobs of an earlier `up` are gone. docs/slurm.md explains more.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=$(realpath -m "${JOURNEY_SLURM_DIR:-$root/.cache/slurm}")
port=${JOURNEY_SLURM_PORT:-16817}
conf=$state/slurm.conf
munge_dir=$state/munge
socket=$munge_dir/munge.socket

die() {
  echo "local-cluster: $*" >&2
  exit 1
}

# The pid in FILE when that process is alive and its command line names the state directory
# (so a recycled pid, or a daemon someone else started, is never ours).
our_pid() {
  local file=$1 pid
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$state/" || return 1
  echo "$pid"
}

node_cpus() {
  local want=${JOURNEY_SLURM_CPUS:-8} have
  have=$(nproc)
  echo $((have > want ? have : want))
}

write_conf() {
  mkdir -p "$state/ctld" "$state/spool" "$state/log" "$state/tmp"
  # The node offers more CPUs than the machine has, so MPI ranks that wait must yield their
  # core instead of spinning (Open MPI does that by itself only under its own mpirun).
  printf '#!/bin/sh\n# Written by slurm/local-cluster.sh: runs before each task.\n%s\n' \
    'echo "export OMPI_MCA_mpi_yield_when_idle=1"' >"$state/task-prolog.sh"
  chmod 0755 "$state/task-prolog.sh"
  local tmp
  tmp=$(mktemp "$conf.XXXXXX")
  cat >"$tmp" <<EOF
# Written by slurm/local-cluster.sh: a one-node cluster on 127.0.0.1 without cgroups.
ClusterName=journey-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# Our own munged; cred_expire is also how long a requeued job waits before it starts again
# (default 120 s), kept short so the requeue tests run in seconds.
AuthInfo=socket=$socket,cred_expire=10
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
# PMIx keeps per-step directories here, named by job id: two local clusters must not share it.
TmpFS=$state/tmp
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
TaskProlog=$state/task-prolog.sh
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
SchedulerType=sched/backfill
# Schedule every few seconds, not every minute: a requeued job restarts promptly.
SchedulerParameters=sched_interval=5,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
KillWait=10
MinJobAge=120
SlurmdTimeout=60
SlurmctldTimeout=60
InactiveLimit=0
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(node_cpus) RealMemory=1024 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  chmod 0644 "$tmp"  # Every user's sbatch reads it.
  mv "$tmp" "$conf"
}

start_munged() {
  our_pid "$munge_dir/munged.pid" >/dev/null && return 0
  id munge >/dev/null 2>&1 || die "there is no user 'munge': install the munge package"
  # munged insists that its key, socket and log directories belong to its user and that
  # nobody else may write them.
  mkdir -p "$munge_dir"
  chown munge:munge "$munge_dir"
  chmod 0755 "$munge_dir"
  if [ ! -s "$munge_dir/munge.key" ]; then
    runuser -u munge -- mungekey --create --keyfile="$munge_dir/munge.key"
  fi
  rm -f "$socket"
  # --force: go on (with a warning in its log) when a directory above the state directory is
  # group-writable, as checkouts and CI workspaces often are; munged refuses that otherwise.
  runuser -u munge -- munged --force --socket="$socket" --key-file="$munge_dir/munge.key" \
    --pid-file="$munge_dir/munged.pid" --log-file="$munge_dir/munged.log" \
    --seed-file="$munge_dir/munged.seed" ||
    die "munged did not start; see $munge_dir/munged.log"
  for _ in $(seq 50); do
    [ -S "$socket" ] && return 0
    sleep 0.1
  done
  die "munged did not open $socket; see $munge_dir/munged.log"
}

start_slurmctld() {
  our_pid "$state/slurmctld.pid" >/dev/null && return 0
  # -c: a clean state; the jobs of an earlier cluster would wait for nodes that went away.
  slurmctld -c -f "$conf" || die "slurmctld did not start; see $state/log/slurmctld.log"
}

start_slurmd() {
  our_pid "$state/slurmd.pid" >/dev/null && return 0
  slurmd -N localhost -f "$conf" || die "slurmd did not start; see $state/log/slurmd.log"
}

wait_for_node() {
  local node_state=""
  for _ in $(seq 150); do
    node_state=$(SLURM_CONF=$conf sinfo -h -n localhost -o %t 2>/dev/null || true)
    case $node_state in
      idle | alloc | mix | comp) return 0 ;;
      drain* | down* | drng*)
        SLURM_CONF=$conf scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
        ;;
    esac
    sleep 0.2
  done
  die "the node did not come up (state '${node_state:-unknown}'); see $state/log/"
}

stop_pidfile() {
  local name=$1 file=$2 pid
  if ! pid=$(our_pid "$file"); then
    rm -f "$file"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then
    echo "local-cluster: $name ($pid) ignored SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  echo "stopped $name ($pid)"
}

print_status() {
  local any=0 name file pid
  for name in munged slurmctld slurmd; do
    file=$state/$name.pid
    [ "$name" = munged ] && file=$munge_dir/munged.pid
    if pid=$(our_pid "$file"); then
      echo "$name: running (pid $pid)"
      any=1
    else
      echo "$name: not running"
    fi
  done
  echo "state: $state"
  if ((any)); then
    SLURM_CONF=$conf sinfo -N -o "%N %T %c %P" 2>/dev/null || true
    echo "export SLURM_CONF=$conf"
  fi
}

case ${1:-} in
  up)
    [ "$(id -u)" -eq 0 ] || die "the local cluster needs root (slurmd launches jobs as their users)"
    for tool in munged mungekey slurmctld slurmd sinfo runuser; do
      command -v "$tool" >/dev/null || die "$tool is missing: install slurm-wlm and munge"
    done
    mkdir -p "$state"
    if ! our_pid "$state/slurmctld.pid" >/dev/null && ! our_pid "$state/slurmd.pid" >/dev/null; then
      write_conf
    fi
    start_munged
    start_slurmctld
    start_slurmd
    wait_for_node
    echo "local cluster up: $(SLURM_CONF=$conf sinfo -h -o '%D node(s), %c CPUs, partition %P')"
    echo "export SLURM_CONF=$conf"
    ;;
  down)
    # Jobs first, so none is left waiting for a node that is going away.
    if our_pid "$state/slurmctld.pid" >/dev/null; then
      SLURM_CONF=$conf scancel --quiet --partition=debug 2>/dev/null || true
      for _ in $(seq 150); do
        [ -z "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
    stop_pidfile slurmd "$state/slurmd.pid"
    stop_pidfile slurmctld "$state/slurmctld.pid"
    stop_pidfile munged "$munge_dir/munged.pid"
    ;;
  status) print_status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *)
    echo "usage: slurm/local-cluster.sh up|down|status|env   (state in \$JOURNEY_SLURM_DIR)" >&2
    exit 2
    ;;
esac
