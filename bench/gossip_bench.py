#!/usr/bin/env python3
"""Gossip benchmark: Meridian's gossipd against serf (Debian package
`serf`, memberlist's reference implementation) in the same run, on
loopback, both on the LAN timer profile (probe 1 s, timeout 500 ms,
gossip 200 ms to 3 nodes, suspicion mult 4, retransmit mult 4).

For each N: start N agents (one loopback address each), join N-1 of them
to the first at once, then measure
  - convergence: time until every agent sees N alive members,
  - footprint after convergence (and a settle time for the join updates
    to drain): RSS and private memory (RSS without shared library pages)
    per agent, idle CPU per agent and UDP datagrams received
    per agent and second over a 10 s window (/proc/net/snmp: run on a quiet
    machine),
  - CPU hog (--hog SECONDS, default 60, 0 skips): 2 busy-loop processes
    per core for that long; every agent's member list is polled about
    every second and the agents' log lines that mark a member suspect or
    failed are counted: a healthy cluster shows no false failure,
  - failure detection (--kills K, default 10, one after the other): kill -9
    of one agent; a thread tails every survivor's log file every 10 ms
    from the kill on and records when each one logs the victim failed
    (gossipd `member.failed pool=lan node=<victim>`, serf `serf:
    EventMemberFailed: <victim>`), when the first probe of it failed and
    when the first suspicion timer expired; detect_all_s is the last
    survivor's time, averaged over the kills. Nothing is polled meanwhile
    (one poll of every member list afterwards cross-checks the result;
    --detect-poll also polls during detection, the earlier method).
Timing goals are ratios against serf measured in the same run (never
absolute), as bench/README.md explains.

Usage: bench/gossip_bench.py [--sizes 20,50,100] [--systems gossipd,serf]
       [--idle 10] [--settle 8] [--hog 60] [--serf-tags consul|none]
       [--kills 10] [--kill-pause 3] [--detect-poll] [--keep-logs DIR]
       [--json out.json] [--registry FILE]
--registry FILE: every process started is appended to FILE as
"pid <pid> <starttime>" and every temporary directory as "dir <path>", so
that bench/gossip.sh can stop and remove what is left if this script is
killed without a chance to clean up.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.environ.get("MERIDIAN_BIN", os.path.join(TOP, "bin"))
MRPC = os.path.join(os.environ.get("MERIDIAN_BUILD", os.path.join(TOP, "build")), "tests", "mrpc")
POOL = ThreadPoolExecutor(max_workers=16)
CLK = os.sysconf("SC_CLK_TCK")
REGISTRY = None         # path of the --registry file, if any

#  The hog: a busy loop that ends by itself after argv[1] seconds (it is
#  also killed by PID when the phase ends); argv[2] names it in ps.
HOG_CODE = ("import sys, time\n"
            "end = time.monotonic() + float(sys.argv[1])\n"
            "while time.monotonic() < end:\n"
            "    pass\n")


def start_time(pid):
    """Start time of a process in clock ticks since boot (identifies it
    beyond its PID)."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def register(kind, value):
    if REGISTRY is None:
        return
    line = "pid %d %d\n" % (value, start_time(value)) if kind == "pid" else "dir %s\n" % value
    with open(REGISTRY, "a") as f:
        f.write(line)


def spawn(argv, out):
    """Starts argv in its own session (so that killpg(pid) stops it and
    whatever it forks) and registers it."""
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        register("pid", proc.pid)
    except OSError:
        pass            # already gone: nothing left to stop
    return proc


def kill_all(procs):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def ip_of(i):
    # 127.0.3.100 and up: the gossip range, above what the tests use.
    return "127.0.3.%d" % (100 + i)


class Agents:
    """N agents of one system; subclasses say how to start and ask them."""

    name = "?"

    def __init__(self, count, workdir):
        self.count = count
        self.workdir = workdir
        self.procs = []

    def spawn(self, i, argv):
        with open(self.log_path(i), "ab") as log:
            return spawn(argv, log)

    def log_path(self, i):
        return os.path.join(self.workdir, "agent%d.log" % i)

    def log_sizes(self):
        return [os.path.getsize(self.log_path(i)) for i in range(self.count)]

    def log_counts(self, offsets):
        """Counts, per kind of LOG_MARKS, the log lines written since
        offsets (one per agent)."""
        counts = {kind: 0 for kind in self.LOG_MARKS}
        for i, offset in enumerate(offsets):
            with open(self.log_path(i), "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
            for line in text.splitlines():
                for kind, marks in self.LOG_MARKS.items():
                    if any(m in line for m in marks):
                        counts[kind] += 1
        return counts

    def start_all(self):
        self.procs = []
        for i in range(self.count):     # one by one: stop_all sees each
            self.procs.append(self.start(i))
        deadline = time.monotonic() + 60
        waiting = set(range(self.count))
        while waiting and time.monotonic() < deadline:
            for i, ok in zip(list(waiting), POOL.map(self.ready, list(waiting))):
                if ok:
                    waiting.discard(i)
            for i in waiting:
                if self.procs[i].poll() is not None:
                    raise RuntimeError("%s agent %d exited at start" % (self.name, i))
            time.sleep(0.05)
        if waiting:
            raise RuntimeError("%s agents %s never answered" % (self.name, sorted(waiting)))

    def stop_all(self):
        kill_all(self.procs)

    def pids(self):
        return [p.pid for p in self.procs if p.poll() is None]


class Gossipd(Agents):
    name = "gossipd"
    #  Log lines (gossipd at info) counted during the hog, by kind.
    LOG_MARKS = {
        "probe_failed": ["gossipd: probe failed, no ack "],
        "suspect": ["gossipd: suspect pool="],
        "failed": ["gossipd: member.failed pool="],
        "refute": ["gossipd: refuting a suspicion of ourselves "],
    }
    #  Log lines about the killed member (name = node name), by phase: a
    #  probe of it got no ack, a suspicion timer expired (this agent
    #  declared it failed), it is listed failed.
    DETECT_MARKS = {
        "probe_failed": "gossipd: probe failed, no ack pool=lan node=%s ",
        "timeout": "gossipd: suspect timeout reached pool=lan node=%s ",
        "failed": "gossipd: member.failed pool=lan node=%s ",
    }

    def start(self, i):
        data_dir = os.path.join(self.workdir, "n%d" % i)
        os.makedirs(data_dir, exist_ok=True)
        config = {"datacenter": "dc1", "node_name": "n%d" % i, "node_id": str(uuid.uuid4()),
                  "server": False, "data_dir": data_dir, "bind_addr": ip_of(i),
                  "advertise_addr": ip_of(i), "log_level": "info"}
        path = os.path.join(data_dir, "gossipd.json")
        with open(path, "w") as f:
            json.dump(config, f)
        return self.spawn(i, [os.path.join(BIN, "gossipd"), "-config-file", path])

    def rpc(self, i, command, body=None, timeout_ms=5000):
        r = subprocess.run([MRPC, os.path.join(self.workdir, "n%d" % i), "gossipd", command,
                            json.dumps(body or {}), str(timeout_ms)],
                           capture_output=True, text=True)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def ready(self, i):
        return self.rpc(i, "members", timeout_ms=300) is not None

    def join(self, i, seed):
        return self.rpc(i, "join", {"Addresses": [ip_of(seed)]}, 30000) is not None

    def statuses(self, i):
        members = self.rpc(i, "members")
        return {m["Name"]: {1: "alive", 2: "leaving", 3: "left", 4: "failed"}.get(m["Status"])
                for m in members} if members is not None else {}

    def health(self, i):
        """Lifeguard local health score (0 = healthy)."""
        stats = self.rpc(i, "stats")
        return stats["lan"]["Health"] if stats else 0


class Serf(Agents):
    name = "serf"
    consul_tags = True
    #  memberlist logs a suspicion only when its own probe fails (not when
    #  it hears one): "suspect" stays empty for serf.
    LOG_MARKS = {
        "probe_failed": ["memberlist: Suspect "],
        "suspect": [],
        "failed": ["serf: EventMemberFailed: "],
        "refute": ["memberlist: Refuting a suspect message", "memberlist: Refuting a dead message"],
    }
    DETECT_MARKS = {
        "probe_failed": "memberlist: Suspect %s has failed, no acks received",
        "timeout": "memberlist: Marking %s as failed, suspect timeout reached",
        "failed": "serf: EventMemberFailed: %s ",
    }

    def start(self, i):
        #  By default the tags a Consul client carries (and gossipd gossips),
        #  so that both systems disseminate updates of the same size.
        tags = ["-tag=role=node", "-tag=dc=dc1", "-tag=segment=", "-tag=id=%s" % uuid.uuid4(),
                "-tag=vsn=2", "-tag=vsn_min=1", "-tag=vsn_max=3", "-tag=build=0.1.0:meridian"]
        if not self.consul_tags:
            tags = []
        return self.spawn(i, ["serf", "agent", "-node=n%d" % i, "-bind=%s:7946" % ip_of(i),
                              "-rpc-addr=%s:7373" % ip_of(i), "-profile=lan",
                              "-log-level=info"] + tags)

    def cli(self, i, command, *args):
        #  Go flags stop at the first argument: -rpc-addr goes first.
        return subprocess.run(["serf", command, "-rpc-addr=%s:7373" % ip_of(i)] + list(args),
                              capture_output=True, text=True)

    def ready(self, i):
        return self.cli(i, "members").returncode == 0

    def join(self, i, seed):
        return self.cli(i, "join", "%s:7946" % ip_of(seed)).returncode == 0

    def statuses(self, i):
        r = self.cli(i, "members", "-format=json")
        if r.returncode != 0:
            return {}
        return {m["name"]: m["status"] for m in json.loads(r.stdout)["members"]}

    def health(self, i):
        r = self.cli(i, "info", "-format=json")
        return int(json.loads(r.stdout)["serf"]["health_score"]) if r.returncode == 0 else 0


def poll_until(agents, indexes, predicate, timeout):
    """Polls agents (in parallel) until predicate(statuses) holds for each;
    returns {index: seconds since the call} of the first success."""
    t0 = time.monotonic()
    seen = {}
    pending = list(indexes)
    rounds = 0
    while pending and time.monotonic() - t0 < timeout:
        rounds += 1
        views = list(POOL.map(agents.statuses, pending))
        now = time.monotonic() - t0
        for i, view in zip(list(pending), views):
            if predicate(view):
                seen[i] = now
                pending.remove(i)
    resolution = (time.monotonic() - t0) / max(rounds, 1)
    return seen, pending, resolution


class LogWatch(threading.Thread):
    """Tails agents' log files from their current end, every `interval`
    seconds, and records for each agent and kind of DETECT_MARKS the
    monotonic time at which the first line about `member` was read. Both
    systems write each log line straight to the file (gossipd: one write
    and fflush per line; serf: Go's log package, one write per line), so
    a line is seen at most one read pass after it was written. Stops once
    every agent wrote its "failed" line, or on stop()."""

    def __init__(self, agents, indexes, member, interval=0.01):
        super().__init__(daemon=True)
        self.interval = interval
        self.marks = {kind: (text % member).encode()
                      for kind, text in agents.DETECT_MARKS.items()}
        self.fds = {}
        for i in indexes:
            fd = os.open(agents.log_path(i), os.O_RDONLY)
            os.lseek(fd, 0, os.SEEK_END)
            self.fds[i] = fd
        self.partial = {i: b"" for i in indexes}
        self.seen = {kind: {} for kind in self.marks}
        self.passes = 0
        self.elapsed = 0.0
        self.stopping = threading.Event()

    def _read(self, i, fd):
        chunks = []
        while True:
            data = os.read(fd, 1 << 16)
            if not data:
                break
            chunks.append(data)
        if not chunks:
            return
        now = time.monotonic()
        lines = (self.partial[i] + b"".join(chunks)).split(b"\n")
        self.partial[i] = lines.pop()
        for line in lines:
            for kind, mark in self.marks.items():
                if i not in self.seen[kind] and mark in line:
                    self.seen[kind][i] = now

    def run(self):
        t0 = time.monotonic()
        try:
            while not self.stopping.is_set() and len(self.seen["failed"]) < len(self.fds):
                start = time.monotonic()
                for i, fd in self.fds.items():
                    if i not in self.seen["failed"]:
                        self._read(i, fd)
                self.passes += 1
                self.stopping.wait(max(0.0, self.interval - (time.monotonic() - start)))
        finally:
            self.elapsed = time.monotonic() - t0
            for fd in self.fds.values():
                os.close(fd)

    def stop(self):
        self.stopping.set()
        self.join()

    def resolution(self):
        """Mean time between two reads of one file."""
        return self.elapsed / max(self.passes, 1)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def private_kib(pid):
    """Memory only this process holds (shared library pages excluded)."""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def udp_in_datagrams():
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    return int(lines[1][lines[0].index("InDatagrams")])


def hog_phase(agents, count, seconds, interval=1.0):
    """Runs 2 busy loops per core for `seconds` while polling every agent's
    member list about every `interval`; returns what the agents saw."""
    cores = len(os.sched_getaffinity(0))
    result = {"hog_s": seconds, "hog_procs": 2 * cores}
    pids = agents.pids()
    offsets = agents.log_sizes()
    last = {}           # (agent, member) -> status at the previous poll
    flaps = 0           # transitions to failed seen by the polls
    failed_members = set()
    errors = rounds = 0
    first_failed = None
    hogs = []
    try:
        ticks0 = {p: cpu_ticks(p) for p in pids}
        t0 = time.monotonic()
        for _ in range(2 * cores):
            #  The busy loop bounds itself (a second of grace), and is killed
            #  by PID below in every case.
            hogs.append(spawn([sys.executable, "-c", HOG_CODE, str(seconds + 1),
                               "gossip-bench-hog"], subprocess.DEVNULL))
        hog_ticks0 = {p.pid: cpu_ticks(p.pid) for p in hogs}
        end = t0 + seconds
        while time.monotonic() < end:
            r0 = time.monotonic()
            views = list(POOL.map(agents.statuses, range(count)))
            rounds += 1
            for i, view in enumerate(views):
                if not view:
                    errors += 1         # no answer in time: not a failure
                    continue
                for name, status in view.items():
                    if status == "failed":
                        failed_members.add(name)
                        if first_failed is None:
                            first_failed = round(time.monotonic() - t0, 1)
                        if last.get((i, name)) != "failed":
                            flaps += 1
                    last[(i, name)] = status
            time.sleep(max(0.0, min(interval - (time.monotonic() - r0), end - time.monotonic())))
        wall = time.monotonic() - t0
        hog_ticks = sum(cpu_ticks(p) - hog_ticks0[p] for p in hog_ticks0 if os.path.exists("/proc/%d" % p))
        agent_cpu = [100.0 * (cpu_ticks(p) - ticks0[p]) / CLK / wall for p in pids]
        result["hog_load_1m_end"] = loadavg()[0]
    finally:
        kill_all(hogs)
    result["hog_cpu_pct_of_machine"] = round(100.0 * hog_ticks / CLK / wall / cores, 1)
    result["hog_agent_cpu_pct_mean"] = round(statistics.mean(agent_cpu), 3)
    result["hog_polls"] = rounds
    result["hog_poll_interval_s"] = round(wall / max(rounds, 1), 2)
    result["hog_poll_errors"] = errors
    result["hog_false_failure"] = bool(failed_members)
    result["hog_first_failed_s"] = first_failed
    result["hog_failed_members"] = sorted(failed_members)
    result["hog_flaps_polled"] = flaps
    #  Lines written up to now: a suspicion raised during the hog may only
    #  end (failed, or refuted) after it.
    for kind, n in agents.log_counts(offsets).items():
        result["hog_log_" + kind] = n if agents.LOG_MARKS[kind] else None
    return result


def detect_one(agents, victim, survivors, detect_poll):
    """kill -9 of agent `victim`; times (from the kill) read from the
    survivors' logs. detect_poll: also poll every survivor's member list
    meanwhile (the earlier method; its load perturbs the run)."""
    name = "n%d" % victim
    watch = LogWatch(agents, survivors, name)
    watch.start()
    result = {"victim": name}
    try:
        t_kill = time.monotonic()
        os.killpg(agents.procs[victim].pid, signal.SIGKILL)
        agents.procs[victim].wait(10)
        if detect_poll:
            failed = lambda v: v.get(name) == "failed"
            t_poll = time.monotonic() - t_kill
            seen, missing, resolution = poll_until(agents, survivors, failed, 180)
            if not missing:
                result["all_polled_s"] = t_poll + max(seen.values())
                result["poll_resolution_s"] = resolution
        watch.join(max(0.0, 180 - (time.monotonic() - t_kill)))
    finally:
        watch.stop()
    got = {kind: {i: t - t_kill for i, t in seen.items()} for kind, seen in watch.seen.items()}
    if len(got["failed"]) < len(survivors):
        raise RuntimeError("%d survivors never logged the failure of %s"
                           % (len(survivors) - len(got["failed"]), name))
    times = sorted(got["failed"].values())
    result["all_s"] = times[-1]
    result["first_s"] = times[0]
    result["median_s"] = statistics.median(times)
    result["first_probe_failed_s"] = min(got["probe_failed"].values())
    result["after_probe_s"] = times[-1] - result["first_probe_failed_s"]
    result["first_timeout_s"] = min(got["timeout"].values())
    #  Agents whose own suspicion timer declared it failed (the others
    #  heard a dead message first).
    result["timeouts"] = len(got["timeout"])
    result["log_resolution_s"] = watch.resolution()
    #  Cross-check: one poll of every survivor's member list, and their
    #  Lifeguard health (awareness) once detection is over.
    views = list(POOL.map(agents.statuses, survivors))
    result["polled_failed"] = sum(1 for v in views if v.get(name) == "failed")
    result["health_mean"] = statistics.mean(POOL.map(agents.health, survivors))
    return result


def detect_phase(agents, count, kills, pause, detect_poll):
    """`kills` failures one after the other (agents count/2, count/2+1,
    ...; `pause` seconds between the end of one detection and the next
    kill); reports the mean of each figure over the kills, and every
    kill's detect_all_s. Where the victim sits in the probers' round-robin
    orders is chance, the same for both systems: the mean over several
    kills narrows it."""
    alive = list(range(count))
    kills = max(1, min(kills, count - 2))
    runs = []
    for k in range(kills):
        if k:
            time.sleep(pause)
        victim = (count // 2 + k) % count
        runs.append(detect_one(agents, victim, [i for i in alive if i != victim], detect_poll))
        alive.remove(victim)
    mean = lambda key: statistics.mean(r[key] for r in runs)
    result = {"detect_kills": kills}
    for key in ("all_s", "first_s", "median_s", "first_probe_failed_s", "after_probe_s",
                "first_timeout_s", "timeouts", "health_mean", "log_resolution_s"):
        result["detect_" + key] = round(mean(key), 4 if key == "log_resolution_s" else 3)
    result["detect_all_s_each"] = [round(r["all_s"], 3) for r in runs]
    result["detect_first_probe_failed_s_each"] = [round(r["first_probe_failed_s"], 3)
                                                  for r in runs]
    result["detect_all_s_max"] = round(max(r["all_s"] for r in runs), 3)
    result["detect_polled_failed_ok"] = all(r["polled_failed"] == count - 1 - k
                                            for k, r in enumerate(runs))
    if all("all_polled_s" in r for r in runs) and detect_poll:
        result["detect_all_polled_s"] = round(mean("all_polled_s"), 3)
        result["detect_poll_resolution_s"] = round(mean("poll_resolution_s"), 3)
    return result


def run(system, count, idle, settle, hog, kills=10, pause=3.0, detect_poll=False,
        keep_logs=None):
    workdir = tempfile.mkdtemp(prefix="gossip-bench-")
    register("dir", workdir)
    agents = system(count, workdir)
    result = {"system": system.name, "n": count, "load_1m_start": loadavg()[0]}
    try:
        agents.start_all()
        t0 = time.monotonic()
        joined = list(POOL.map(lambda i: agents.join(i, 0), range(1, count)))
        result["join_s"] = round(time.monotonic() - t0, 3)
        if not all(joined):
            raise RuntimeError("%d joins failed" % joined.count(False))
        alive = lambda v: sum(1 for s in v.values() if s == "alive") == count
        seen, missing, resolution = poll_until(agents, range(count), alive, 240)
        if missing:
            raise RuntimeError("never converged: %s" % missing)
        result["converge_s"] = round(result["join_s"] + max(seen.values()), 3)
        result["poll_resolution_s"] = round(resolution, 3)

        time.sleep(settle)          # let the join updates drain
        pids = agents.pids()
        rss = sorted(rss_kib(p) for p in pids)
        result["rss_kib_median"] = statistics.median(rss)
        result["rss_kib_max"] = rss[-1]
        result["private_kib_median"] = statistics.median(private_kib(p) for p in pids)
        ticks0 = {p: cpu_ticks(p) for p in pids}
        udp0, w0 = udp_in_datagrams(), time.monotonic()
        time.sleep(idle)
        udp1, w1 = udp_in_datagrams(), time.monotonic()
        cpu = sorted(100.0 * (cpu_ticks(p) - ticks0[p]) / CLK / (w1 - w0) for p in pids)
        result["idle_cpu_pct_median"] = round(statistics.median(cpu), 3)
        result["idle_cpu_pct_mean"] = round(statistics.mean(cpu), 3)
        result["udp_rx_per_agent_s"] = round((udp1 - udp0) / (w1 - w0) / count, 2)

        if hog > 0:
            result.update(hog_phase(agents, count, hog))
            #  Back to N alive everywhere before the detection step (at
            #  once if the hog made no false failure).
            seen, missing, _ = poll_until(agents, range(count), alive, 60)
            result["hog_recovered_s"] = round(max(seen.values()), 2) if not missing else None

        result.update(detect_phase(agents, count, kills, pause, detect_poll))
    finally:
        agents.stop_all()
        if keep_logs:
            dest = os.path.join(keep_logs, "%s-%d" % (system.name, count))
            os.makedirs(dest, exist_ok=True)
            for i in range(count):
                if os.path.exists(agents.log_path(i)):
                    shutil.copy(agents.log_path(i), dest)
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,50,100")
    parser.add_argument("--systems", default="gossipd,serf")
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=8.0)
    parser.add_argument("--hog", type=float, default=60.0,
                        help="seconds of CPU hog (2 busy loops per core) after the idle "
                             "window; 0 skips (default 60)")
    parser.add_argument("--registry", help="file to append started PIDs and temp dirs to")
    parser.add_argument("--serf-tags", choices=["consul", "none"], default="consul",
                        help="tags of the serf agents (default: a Consul client's)")
    parser.add_argument("--kills", type=int, default=10,
                        help="failures measured one after the other per system and N "
                             "(default 10; figures are their means)")
    parser.add_argument("--kill-pause", type=float, default=3.0,
                        help="seconds between the end of one detection and the next kill "
                             "(default 3: the probers' Lifeguard health recovers)")
    parser.add_argument("--detect-poll", action="store_true",
                        help="during failure detection, also poll every survivor's member "
                             "list (the earlier, perturbing method: detect_all_polled_s)")
    parser.add_argument("--keep-logs", metavar="DIR",
                        help="copy every agent's log to DIR/<system>-<N>/ at the end of a run")
    parser.add_argument("--json")
    args = parser.parse_args()
    global REGISTRY
    REGISTRY = args.registry
    #  SIGTERM and SIGHUP unwind like Ctrl-C, so that every `finally` stops
    #  the agents and hogs of the current run and removes its directory.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    Serf.consul_tags = args.serf_tags == "consul"
    systems = {"gossipd": Gossipd, "serf": Serf}
    results = []
    for n in [int(x) for x in args.sizes.split(",")]:
        for name in args.systems.split(","):
            print("# %s N=%d ..." % (name, n), file=sys.stderr, flush=True)
            try:
                results.append(run(systems[name], n, args.idle, args.settle, args.hog,
                                   args.kills, args.kill_pause, args.detect_poll,
                                   args.keep_logs))
            except Exception as e:  # noqa: BLE001 - report and go on with the next run
                results.append({"system": name, "n": n, "error": str(e)})
            print(json.dumps(results[-1]), flush=True)
    keys = ["converge_s", "detect_all_s", "detect_all_s_max", "detect_first_s",
            "detect_first_probe_failed_s", "detect_after_probe_s", "detect_all_polled_s",
            "rss_kib_median", "private_kib_median",
            "idle_cpu_pct_mean", "udp_rx_per_agent_s"]
    print("\n| N | metric | gossipd | serf | gossipd/serf |")
    print("|---|---|---|---|---|")
    for n in sorted({r["n"] for r in results}):
        by = {r["system"]: r for r in results if r["n"] == n}
        g, s = by.get("gossipd", {}), by.get("serf", {})
        for k in keys:
            gv, sv = g.get(k), s.get(k)
            if gv is None and sv is None:
                continue
            ratio = "%.2f" % (gv / sv) if isinstance(gv, (int, float)) and sv else "-"
            print("| %d | %s | %s | %s | %s |" % (n, k, gv, sv, ratio))
    hog_keys = ["hog_false_failure", "hog_flaps_polled", "hog_log_failed", "hog_log_suspect",
                "hog_log_probe_failed", "hog_log_refute", "hog_polls", "hog_poll_errors",
                "hog_cpu_pct_of_machine", "hog_agent_cpu_pct_mean", "hog_load_1m_end"]
    hogged = [r for r in results if "hog_s" in r]
    if hogged:
        print("\n| N | during the CPU hog | gossipd | serf |")
        print("|---|---|---|---|")
        for n in sorted({r["n"] for r in hogged}):
            by = {r["system"]: r for r in hogged if r["n"] == n}
            for k in hog_keys:
                cells = [by.get(x, {}).get(k, "-") for x in ("gossipd", "serf")]
                cells = ["-" if v is None else ("yes" if v is True else "no" if v is False else v)
                         for v in cells]
                print("| %d | %s | %s | %s |" % (n, k[4:], cells[0], cells[1]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
