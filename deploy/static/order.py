#!/usr/bin/env python3
"""Regenerates deploy/static/gossipd.order, the list of functions gossipd
executes; the static link places them first so that the code gossipd runs
sits in few pages (docs/build.md).

It runs gossipd under valgrind's callgrind through two scenarios on
loopback (127.0.9.x, ports 18301/18302, clear of agents on the defaults):
  A. a client with 99 plain gossipd peers (a pool of 100: push-pull
     scaling past 32 members, replies and sorts that large), no
     encryption: join, members, coordinates, stats, a peer SIGSTOPped
     (suspicion, refutation), a peer killed (failure), a graceful leave,
     force-leave with prune, steady probing and push-pull;
  B. a server with three peers, an encryption key and a WAN pool: the same,
     plus a WAN join, keyring list/install/use/remove and WAN members.
Functions are listed as callgrind dumps them (grouped by object and source
file), those seen only in B after those of A.

Under valgrind glibc picks the string functions of the CPU valgrind
emulates, not of the machine gossipd will run on. So every variant of each
string function seen (memcpy: __memcpy_evex_unaligned_erms, ...) follows,
grouped by instruction-set family, so that the family a machine uses sits
together.

valgrind gives a program no vDSO, so glibc's vDSO set-up never runs under
it. A last pass relinks and runs gossipd natively under `perf record` of
its page faults: a fault in code outside the listed functions names one
more function to list; it repeats until there is none (at most 10 rounds).

Needs valgrind, perf and a built bin/gossipd and build/tests/mrpc; stops
everything it starts.
Usage: deploy/static/order.py   (then commit deploy/static/gossipd.order)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOSSIPD = os.path.join(TOP, "bin", "gossipd")
MRPC = os.path.join(TOP, "build", "tests", "mrpc")
ORDER = os.path.join(TOP, "deploy", "static", "gossipd.order")
KEY1 = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
KEY2 = "H3Lf+XGJcSuy2kMLlxWCkxNT2MJXHVlW8TR+HM2nQ0w="
#  Timers a process under valgrind keeps up with.
PROFILE = {"gossip_nodes": 3, "gossip_interval": "100ms", "probe_interval": "200ms",
           "probe_timeout": "200ms", "suspicion_mult": 4, "retransmit_mult": 3,
           "push_pull_interval": "2s"}


class Scenario:
    def __init__(self, workdir, tag, server, encrypt, peers):
        self.workdir = os.path.join(workdir, tag)
        self.peers = peers
        self.server = server
        self.encrypt = encrypt
        self.procs = {}

    def ip(self, i):
        return "127.0.9.%d" % (10 + i)

    def start(self, i, profiled=False, perf=None):
        d = os.path.join(self.workdir, "n%d" % i)
        os.makedirs(d, exist_ok=True)
        cfg = {"datacenter": "dc1", "node_name": "n%d" % i, "node_id": str(uuid.uuid4()),
               "server": self.server, "data_dir": d, "bind_addr": self.ip(i),
               "advertise_addr": self.ip(i), "log_level": "debug",
               "gossip_lan": PROFILE, "gossip_wan": PROFILE,
               "ports": {"serf_lan": 18301, "serf_wan": 18302}}
        if self.encrypt:
            cfg["encrypt"] = KEY1
        path = os.path.join(d, "gossipd.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        argv = [GOSSIPD, "-config-file", path]
        if perf:
            argv = ["perf", "record", "-q", "-e", "exceptions:page_fault_user", "-c", "1",
                    "-o", perf] + argv
        if profiled:
            self.out = os.path.join(self.workdir, "callgrind.out")
            argv = ["valgrind", "--tool=callgrind", "--demangle=no", "--dump-instr=no",
                    "--callgrind-out-file=" + self.out] + argv
        log = open(os.path.join(d, "log"), "w")
        self.procs[i] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.wait(lambda: self.rpc(i, "members", timeout_ms=500) is not None,
                  "n%d to answer" % i, 60)

    def rpc(self, i, command, body=None, timeout_ms=5000):
        r = subprocess.run([MRPC, os.path.join(self.workdir, "n%d" % i), "gossipd", command,
                            json.dumps(body or {}), str(timeout_ms)],
                           capture_output=True, text=True, timeout=timeout_ms / 1000 + 10)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def must(self, i, command, body=None, timeout_ms=5000):
        reply = self.rpc(i, command, body, timeout_ms)
        if reply is None:
            raise SystemExit("order.py: n%d %s failed" % (i, command))
        return reply

    def wait(self, cond, what, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return
            time.sleep(0.2)
        raise SystemExit("order.py: timed out waiting for %s" % what)

    def view(self, i, wan=False):
        return {m["Name"]: m["Status"] for m in self.rpc(i, "members", {"WAN": wan}) or []}

    def run(self):
        self.start(0, profiled=True)
        for i in range(1, self.peers + 1):
            self.start(i)
        self.must(0, "join", {"Addresses": ["%s:18301" % self.ip(i)
                                             for i in range(1, self.peers + 1)]}, 30000)
        self.wait(lambda: len(self.view(0)) == self.peers + 1, "the pool to converge", 120)
        if self.server:
            self.must(1, "join", {"Addresses": [self.ip(0) + ":18302"], "WAN": True}, 30000)
            self.wait(lambda: len(self.view(0, wan=True)) >= 2, "the WAN pool")
        for command in ("members", "self", "stats", "coordinate.nodes",
                        "coordinate.datacenters", "datacenters"):
            self.must(0, command)
        self.must(0, "members", {"WAN": True})
        if self.encrypt:
            for op, key in (("list", None), ("install", KEY2), ("use", KEY2),
                            ("use", KEY1), ("remove", KEY2), ("list", None)):
                body = {"Op": op}
                if key:
                    body["Key"] = key
                self.must(0, "keyring", body, 15000)
        time.sleep(3)
        os.kill(self.procs[1].pid, signal.SIGSTOP)
        time.sleep(1.5)
        os.kill(self.procs[1].pid, signal.SIGCONT)
        time.sleep(3)
        self.procs[2].kill()
        self.procs[2].wait()
        self.wait(lambda: self.view(0).get("n2") == 4, "n2 to be seen failed", 60)
        self.must(0, "force-leave", {"Node": "n2", "Prune": True})
        self.must(3, "leave", {}, 15000)
        self.wait(lambda: self.view(0).get("n3") in (3, None), "n3 to be seen left", 60)
        time.sleep(6)
        self.stop()
        return self.out

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGCONT)
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()


def functions(path):
    """Executed functions of a callgrind output file, in file order."""
    names, order, seen = {}, [], set()
    with open(path) as f:
        for line in f:
            m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?", line)
            if not m:
                continue
            if m.group(3):
                names[m.group(2)] = m.group(3).strip()
            name = names.get(m.group(2)) if m.group(1) == "fn" else None
            if name:
                name = name.split("'")[0]
                if name not in seen and not name.startswith("0x"):
                    seen.add(name)
                    order.append(name)
    return order


#  glibc's multiarch suffixes; a variant belongs to the first family one
#  of whose tokens its name has (rtm variants are for TSX machines).
FAMILIES = (("evex",), ("avx512",), ("rtm",), ("avx2", "avx"), ("sse4", "sse42", "sse41", "ssse3"),
            ("sse2", "sse"))
VARIANT = re.compile(r"^__([a-z0-9]+?)_(evex|avx512|avx2|avx|sse4|sse42|sse41|ssse3|sse2|sse)")


def family(name):
    tokens = set(name.split("_"))
    for rank, members in enumerate(FAMILIES):
        if tokens & set(members):
            return rank
    return len(FAMILIES)


def variants(executed):
    """Every multiarch variant of the string functions in `executed` that
    is not in it yet, grouped by family."""
    bases = {m.group(1) for m in map(VARIANT.match, executed) if m}
    nm = subprocess.run(["nm", GOSSIPD], capture_output=True, text=True, check=True).stdout
    seen = set(executed)
    found = []
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] not in "tT" or parts[2] in seen:
            continue
        m = VARIANT.match(parts[2])
        if m and m.group(1) in bases:
            seen.add(parts[2])
            found.append(parts[2])
    return sorted(found, key=lambda n: (family(n), n))


def write(path, names):
    with open(path, "w") as f:
        f.write("\n".join(names) + "\n")


def symbols():
    """{name: address} of bin/gossipd's functions."""
    nm = subprocess.run(["nm", GOSSIPD], capture_output=True, text=True, check=True).stdout
    return {p[2]: int(p[0], 16) for p in (l.split() for l in nm.splitlines())
            if len(p) == 3 and p[1] in "tTwWiI"}


def native_pass(result, workdir, scenarios):
    """Relinks with ORDER and runs gossipd natively under perf until no
    code outside the listed functions faults; returns what it added."""
    added = []
    for _ in range(10):
        subprocess.run(["make", "--no-print-directory", "-C", TOP, "bin/gossipd"],
                       check=True, stdout=subprocess.DEVNULL)
        syms = symbols()
        listed = set(result)
        hot_end = max(a for n, a in syms.items() if n in listed)
        data = os.path.join(workdir, "faults.data")
        s = Scenario(workdir, "native%d" % len(added), False, False, 0)
        scenarios.append(s)
        s.start(0, perf=data)
        for command in ("members", "self", "stats"):
            s.must(0, command)
        s.stop()
        script = subprocess.run(["perf", "script", "-i", data], capture_output=True,
                                text=True).stdout
        new = []
        for m in re.finditer(r"address=0x([0-9a-f]+) ip=0x([0-9a-f]+)", script):
            address = int(m.group(1), 16)
            if address != int(m.group(2), 16) or address <= hot_end:
                continue
            name = subprocess.run(["addr2line", "-f", "-e", GOSSIPD, hex(address)],
                                  capture_output=True, text=True).stdout.split()[0]
            if name in syms and name not in listed and name not in new:
                new.append(name)
        if not new:
            break
        added += new
        result[:0] = new
        write(ORDER, result)
    return added


def main():
    for tool in ("valgrind", "perf", "addr2line"):
        if not shutil.which(tool):
            sys.exit("order.py: %s not found" % tool)
    kind = subprocess.run(["file", "-L", GOSSIPD], capture_output=True, text=True).stdout
    if "statically linked" not in kind:
        sys.exit("order.py: %s is not the static build (docs/build.md)" % GOSSIPD)
    workdir = tempfile.mkdtemp(prefix="gossipd-order-")
    scenarios = []
    try:
        result = []
        for tag, server, encrypt, peers in (("a", False, False, 99), ("b", True, True, 3)):
            s = Scenario(workdir, tag, server, encrypt, peers)
            scenarios.append(s)
            for name in functions(s.run()):
                if name not in result:
                    result.append(name)
        result += variants(result)
        write(ORDER, result)
        native = native_pass(result, workdir, scenarios)
    finally:
        for s in scenarios:
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("order.py: the native pass added %s" % (", ".join(native) or "nothing"))
    print("order.py: %d functions -> %s" % (len(result), ORDER))


if __name__ == "__main__":
    main()
