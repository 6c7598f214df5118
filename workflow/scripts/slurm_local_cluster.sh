#!/usr/bin/env bash
# A real check of the SLURM profile: start a one-node SLURM cluster on this machine (Debian's munge,
# slurmctld and slurmd), run the smoke study through profiles/slurm with
# snakemake-executor-plugin-slurm, and stop the cluster again.
#
#   sudo bash workflow/scripts/slurm_local_cluster.sh [PYTHON]       # or: make slurm-check
#
# PYTHON is the environment with qubocnn and Snakemake (default .venv/bin/python); the executor
# plugin is pip-installed into it. Root is needed for apt-get and the daemons. The cluster's state
# and logs live in $SLURM_LOCAL_DIR (default /tmp/qubocnn-slurm). Its configuration must be at
# /etc/slurm/slurm.conf, where the job steps look for it (slurmd does not pass a SLURM_CONF on to
# the jobs): the script writes it there only if that file is absent or its own, and removes it at
# the end; on a machine with a SLURM configuration of its own it refuses.
# The node offers this machine's CPUs and 80% of its memory, so the profile's requests (8 CPUs and
# 16 GB per QUBO run, sized for a real cluster) are scaled down to 1 CPU and 2 GB per job here.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-.venv/bin/python}
dir=${SLURM_LOCAL_DIR:-/tmp/qubocnn-slurm}
conf=/etc/slurm/slurm.conf
mark="# written by qubocnn workflow/scripts/slurm_local_cluster.sh"

if [ "$(id -u)" != 0 ]; then
  echo "slurm_local_cluster.sh: run as root: it installs and starts munge, slurmctld and slurmd" >&2
  exit 2
fi
if ! "$python" -c "import qubocnn, snakemake" 2>/dev/null; then
  echo "slurm_local_cluster.sh: $python lacks qubocnn or snakemake: run make install first" >&2
  exit 2
fi
if [ -e "$conf" ] && ! grep -qxF "$mark" "$conf"; then
  echo "slurm_local_cluster.sh: $conf exists: this machine has its own SLURM; use the profile there directly" >&2
  exit 2
fi

if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v sbatch > /dev/null \
   || ! command -v munged > /dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq munge slurmctld slurmd slurm-client > /dev/null
fi
"$python" -m pip install --quiet snakemake-executor-plugin-slurm

# munge authenticates every SLURM message; the Debian package makes its key, else we do.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
if ! munge -n < /dev/null | unmunge > /dev/null 2>&1; then
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
fi

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
rm -rf "$dir/state" "$dir/spool"  # a fresh cluster: job IDs and squeue show this run's jobs only
mkdir -p "$dir/state" "$dir/spool" /etc/slurm
# proctrack/linuxproc and task/none: no cgroups needed (containers, VMs without systemd).
# MinJobAge: finished jobs stay visible to squeue for an hour; without accounting (no slurmdbd)
# sacct cannot answer, so the executor plugin reads job states with squeue.
cat > "$conf" <<EOF
$mark
ClusterName=qubocnn-local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

stop_cluster() {
  scontrol shutdown > /dev/null 2>&1 || true
  rm -f "$conf"
}
trap stop_cluster EXIT
slurmctld
slurmd
for _ in $(seq 60); do
  sinfo -h -o %t 2> /dev/null | grep -qx idle && break
  sleep 1
done
sinfo -h -o %t | grep -qx idle || { echo "slurm_local_cluster.sh: the node did not come up: see $dir/*.log" >&2; exit 1; }
echo "SLURM cluster up: node $host, $cpus CPUs, $mem_mb MB (logs in $dir)"

# sbatch passes the environment on (--export=ALL): the jobs find the same qubocnn and Snakemake.
start=$(date +%s)
"$python" -m snakemake --profile profiles/slurm smoke --slurm-no-account --slurm-status-command squeue \
  --default-resources mem_mb=1000 runtime=30 cpus_per_task=1 slurm_partition=local \
  --set-threads qubo=1 \
  --set-resources features:mem_mb=2000 qubo:mem_mb=2000 qubo:cpus_per_task=1 continuous:mem_mb=2000 \
  baseline:mem_mb=2000 \
  --jobs "$cpus"
jobs=$(squeue --states=all -h -o %i | wc -l)
echo "SLURM smoke run done in $(( $(date +%s) - start )) s: $jobs SLURM jobs (squeue --states=all), outputs in results/smoke/"
