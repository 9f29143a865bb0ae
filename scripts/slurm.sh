#!/usr/bin/env bash
# A single-node Slurm for the matrix test: munged, slurmctld and slurmd in
# the foreground of background jobs, no systemd, no cgroups, no accounting.
#   scripts/slurm.sh start DIR   prints the slurm.conf path (export SLURM_CONF=…); PIDs in DIR/*.pid
#   scripts/slurm.sh stop DIR    stops every daemon it started, by PID, and removes DIR
# Needs root (slurmd runs jobs as their user) and Debian's slurm-wlm and munge.
set -euo pipefail
cmd=$1 dir=$2
case $cmd in
start)
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chown munge "$dir/munge"
  mkdir -p /run/munge && chown munge /run/munge
  [ -f /etc/munge/munge.key ] || { runuser -u munge -- /usr/sbin/mungekey --create 2>/dev/null || \
    (dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null && chown munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key); }
  setsid runuser -u munge -- /usr/sbin/munged --foreground --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed" \
    </dev/null >"$dir/munged.out" 2>&1 &
  echo $! >"$dir/munged.pid"
  host=$(hostname)
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=bench
SlurmctldHost=$host
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ReturnToService=2
GresTypes=gpu
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=bench Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  # One pretend GPU, so that cells ask for --gres=gpu:1 as on a real cluster.
  echo "NodeName=$host Name=gpu File=/dev/null Count=1" >"$dir/gres.conf"
  export SLURM_CONF="$dir/slurm.conf"
  setsid /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" </dev/null >"$dir/slurmctld.out" 2>&1 &
  echo $! >"$dir/slurmctld.pid"
  setsid /usr/sbin/slurmd -D -f "$SLURM_CONF" </dev/null >"$dir/slurmd.out" 2>&1 &
  echo $! >"$dir/slurmd.pid"
  for _ in $(seq 100); do
    if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then break; fi
    sleep 0.2
  done
  sinfo -h -o %t | grep -qE '^(idle|mix|alloc)' || { echo "slurm.sh: the node did not come up; see $dir/*.log" >&2; exit 1; }
  echo "$SLURM_CONF"
  ;;
stop)
  export SLURM_CONF="$dir/slurm.conf"
  for d in slurmd slurmctld munged; do
    if [ -f "$dir/$d.pid" ]; then
      pid=$(cat "$dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
  ;;
esac
