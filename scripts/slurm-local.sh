#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, for tests and for trying slurm/ on one machine.
#
# usage: scripts/slurm-local.sh start|stop|status
#
#   start   writes /etc/slurm/slurm.conf for this host, starts munged, slurmctld (clean start:
#           no old jobs, job IDs from 1) and slurmd, and waits until the node is idle.
#           Idempotent: if the cluster already runs with the same configuration it only waits
#           for the node; with a different configuration it restarts the SLURM daemons.
#   stop    cancels every job, stops slurmd, slurmctld and munged by their pid files and waits
#           until the pid files are gone.
#   status  prints the daemons, sinfo and squeue; exit 0 iff the node answers and is usable.
#
# Needs root and the Debian packages slurm-wlm and munge (no systemd needed):
#   apt-get install -y -o DPkg::Lock::Timeout=600 slurm-wlm munge
#
# Environment:
#   SLURM_LOCAL_CPUS     CPUs the node declares (default 8, more than the real cores so that
#                        2–4 rank jobs fit on a 2-core machine; needs config_overrides)
#   SLURM_LOCAL_TIMEOUT  seconds to wait for the node to become idle (default 30)
#
# The pitfalls behind this recipe (requeue delay, time limits, array size): docs/PITFALLS.md.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
LOGDIR=/var/log/slurm
CPUS=${SLURM_LOCAL_CPUS:-8}
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-30}
CRED_EXPIRE=${SLURM_LOCAL_CRED_EXPIRE:-5}

die() {
	echo "slurm-local: $*" >&2
	exit 1
}
say() { echo "slurm-local: $*"; }

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

# running PIDFILE: the pid file exists and names a live, non-zombie process.
# (Exited daemons stay <defunct> for a while here because PID 1 reaps late, so kill -0 is
# not enough.)
running() {
	local pf=$1 pid state
	pid=$(tr -dc 0-9 2>/dev/null <"$pf") || return 1
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
	state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ "$state" != Z ] && [ "$state" != X ]
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (it writes $CONF and starts the munge and SLURM daemons); try: sudo $0 $1"
}

need_packages() {
	local missing=()
	for c in munged slurmctld slurmd sinfo; do
		command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing+=("$c")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "missing ${missing[*]}: install the Debian packages with
  DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 slurm-wlm munge"
}

# The configuration for this machine, on stdout.
config() {
	local host mem
	host=$(hostname -s)
	# slurmd -C prints the real node line; keep its RealMemory (a larger value would make the
	# node invalid) and declare CPUs=$CPUS, accepted thanks to config_overrides.
	mem=$(slurmd -C 2>/dev/null | head -1 | sed -nE 's/.*RealMemory=([0-9]+).*/\1/p')
	[ -n "$mem" ] || die "could not read RealMemory from 'slurmd -C'"
	cat <<CONF
# Written by scripts/slurm-local.sh: a one-node cluster on localhost (tests only).
ClusterName=localcluster
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=${CRED_EXPIRE}
CredType=cred/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=${CTLD_PID}
SlurmdPidFile=${SLURMD_PID}
SlurmctldLogFile=${LOGDIR}/slurmctld.log
SlurmdLogFile=${LOGDIR}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,sched_interval=1,bf_interval=1
DependencyParameters=kill_invalid_depend
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=300
KillWait=5
NodeName=${host} CPUs=${CPUS} RealMemory=${mem} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

node_state() { sinfo -h -N -o %T 2>/dev/null | head -1 || true; }

wait_idle() {
	local deadline=$((SECONDS + TIMEOUT)) st=""
	while [ $SECONDS -lt $deadline ]; do
		st=$(node_state)
		case $st in
		idle | mixed | allocated | completing) return 0 ;;
		esac
		sleep 0.5
	done
	{
		echo "slurm-local: the node did not become idle within ${TIMEOUT} s (state: '${st:-no answer}')"
		sinfo -N -l 2>&1 || true
		scontrol show node 2>&1 | grep -E 'State|Reason' || true
		echo "--- tail of ${LOGDIR}/slurmctld.log"
		tail -n 20 "${LOGDIR}/slurmctld.log" 2>/dev/null || true
		echo "--- tail of ${LOGDIR}/slurmd.log"
		tail -n 20 "${LOGDIR}/slurmd.log" 2>/dev/null || true
	} >&2
	exit 1
}

# wait_gone PIDFILE NAME: wait until the daemon removed its pid file (or died without doing so).
wait_gone() {
	local pf=$1 name=$2 deadline=$((SECONDS + TIMEOUT))
	while [ -e "$pf" ] && running "$pf"; do
		[ $SECONDS -lt $deadline ] || die "$name (pid $(cat "$pf")) did not stop within ${TIMEOUT} s"
		sleep 0.2
	done
	rm -f "$pf" # a pid file left by a daemon that was killed
	return 0
}

stop_daemon() { # PIDFILE NAME
	local pf=$1 name=$2
	local pid
	if running "$pf" && pid=$(tr -dc 0-9 2>/dev/null <"$pf") && [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait_gone "$pf" "$name"
		say "stopped $name"
	else
		rm -f "$pf"
	fi
	return 0
}

start_munge() {
	if running "$MUNGE_PID"; then
		return 0
	fi
	if [ ! -s /etc/munge/munge.key ]; then
		mungekey --create --keyfile=/etc/munge/munge.key
		chown munge:munge /etc/munge/munge.key
		chmod 0400 /etc/munge/munge.key
	fi
	install -d -o munge -g munge -m 0755 /run/munge
	runuser -u munge -- /usr/sbin/munged
	local i
	for i in $(seq 1 50); do
		munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && {
			say "munged running"
			return 0
		}
		sleep 0.1
	done
	die "munged does not answer: 'munge -n | unmunge' fails (see /var/log/munge/munged.log)"
}

cmd_start() {
	need_root start
	need_packages
	local new
	new=$(config)
	install -d -m 0755 /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd "$LOGDIR"
	if running "$CTLD_PID" && running "$SLURMD_PID" && [ -f "$CONF" ] && [ "$new" = "$(cat "$CONF")" ] &&
		running "$MUNGE_PID"; then
		say "already running"
		wait_idle
		say "node $(hostname -s) is $(node_state) (${CPUS} CPUs)"
		return 0
	fi
	# Something is missing or the configuration changed: restart the SLURM daemons cleanly.
	stop_daemon "$SLURMD_PID" slurmd
	stop_daemon "$CTLD_PID" slurmctld
	printf '%s\n' "$new" >"$CONF"
	start_munge
	slurmctld -c # clean start: forget old jobs and node states
	slurmd
	wait_idle
	say "node $(hostname -s) is $(node_state) (${CPUS} CPUs); logs in ${LOGDIR}"
}

cmd_stop() {
	need_root stop
	if running "$CTLD_PID"; then
		scancel --user=root >/dev/null 2>&1 || true
		local deadline=$((SECONDS + TIMEOUT))
		while [ -n "$(squeue -h 2>/dev/null || true)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
	fi
	stop_daemon "$SLURMD_PID" slurmd
	stop_daemon "$CTLD_PID" slurmctld
	stop_daemon "$MUNGE_PID" munged
	return 0
}

cmd_status() {
	local ok=0 pf name
	for pf in "$MUNGE_PID:munged" "$CTLD_PID:slurmctld" "$SLURMD_PID:slurmd"; do
		name=${pf#*:}
		pf=${pf%%:*}
		if running "$pf"; then
			echo "$name: running (pid $(tr -dc 0-9 2>/dev/null <"$pf"))"
		else
			echo "$name: stopped"
			ok=1
		fi
	done
	if [ $ok -eq 0 ]; then
		sinfo || ok=1
		squeue || ok=1
		case $(node_state) in
		idle | mixed | allocated | completing) ;;
		*) ok=1 ;;
		esac
	fi
	return $ok
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
