"""Multi-server datacenters (issue 5): the servers of a DC form one raft
group through bootstrap_expect, writes on any server are forwarded to the
leader and acknowledged once committed, reads default to the leader, and
the group survives what a quorum survives.

- 3 servers (127.0.7.1-3): concurrent writers and readers while the
  leader's whole agent is killed with SIGKILL; a new leader within a bound
  that follows from the election timeout; every acknowledged write on
  every survivor; X-Consul-Index never goes back per reader; the killed
  server catches up after a restart, including through a snapshot
  (InstallSnapshot) after more than a snapshot's worth of writes. Also the
  status and operator commands (remove-peer, then autopilot adds the
  server back).
- 5 servers (127.0.7.11-15): two failures leave a working cluster; three
  leave "No cluster leader" within the hold (and nothing acknowledged);
  nothing acknowledged is lost when they come back.
- A minority cut off: the leader of 3 servers is isolated from the other
  two. With network namespaces (root only: each server in its own netns
  on 10.77.7.x behind a bridge, the link of the isolated one set down) it
  keeps running and must refuse writes; without them the isolation is a
  SIGSTOP of its agent (stand-in: a stopped server cannot answer at all).

Raft timers: performance.raft_multiplier 1, i.e. an election timeout of
1 s, randomized by libraft to 1-2 s."""

import json
import os
import shutil
import signal
import subprocess
import threading
import time

from tests.integration import harness
from tests.integration.harness import http_json, try_http_json

MERIDIAN = os.path.join(harness.BIN, "meridian")
CATALOG_CALL = os.path.join(harness.TOOLS, "catalog_call")

ELECTION_TIMEOUT_MS = 1000       # raft_multiplier 1
# libraft waits 1x..2x the election timeout, then a pre-vote and a vote
# round; twice that, plus the time to notice, bounds a failover.
FAILOVER_BOUND_S = 4 * 2 * ELECTION_TIMEOUT_MS / 1000.0
HOLD_BOUND_S = 7.0               # Consul's rpc_hold_timeout; ours is 4 s

CONFIG = {
    "gossip_lan": {"gossip_interval": "100ms", "probe_interval": "200ms",
                   "probe_timeout": "100ms", "suspicion_mult": 3,
                   "push_pull_interval": "5s"},
    "retry_interval": "1s",
    "performance": {"raft_multiplier": 1},
}


def catalog_call(data_dir, command, body=None, timeout_ms=8000):
    """One request to a node's catalogd (tests/helpers/catalog_call)."""
    argv = [CATALOG_CALL, "-t", str(timeout_ms), data_dir, command]
    if body is not None:
        argv.append(json.dumps(body))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    out = done.stdout.strip()
    if done.returncode == 0:
        return True, json.loads(out)
    return False, out


class History:
    """What concurrent clients were told: acknowledged writes, and the
    X-Consul-Index of every default-mode read, per client."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}             # node name -> meta value
        self.failed = 0
        self.errors = {}            # error text -> count
        self.indexes = {}           # reader -> [index, ...]

    def ack(self, node, value):
        with self.lock:
            self.acked[node] = value

    def fail(self, why):
        with self.lock:
            self.failed += 1
            self.errors[why] = self.errors.get(why, 0) + 1

    def read(self, reader, index):
        with self.lock:
            self.indexes.setdefault(reader, []).append(index)


def writer(history, name, urls, stop, limit=None):
    """Registers distinct nodes (key=value in NodeMeta) until stopped,
    through the servers of urls in turn when one does not answer."""
    i = 0
    which = 0
    while not stop.is_set() and (limit is None or i < limit):
        node = "%s-%d" % (name, i)
        value = "v%d" % i
        body = {"Node": node, "Address": "10.1.%d.%d" % (i // 250 % 250, i % 250),
                "NodeMeta": {"k": value}}
        try:
            st, _, obj = http_json("PUT", urls[which] + "/v1/catalog/register", body,
                                   timeout=10)
        except OSError as e:
            history.fail(type(e).__name__)
            which = (which + 1) % len(urls)
            time.sleep(0.05)
            continue
        if st == 200 and obj is True:
            history.ack(node, value)
        else:
            history.fail("%s" % st)
            time.sleep(0.02)
        i += 1


def reader(history, name, url, stop):
    """Default-mode reads of one server; records X-Consul-Index."""
    while not stop.is_set():
        try:
            st, hdrs, _ = harness.http("GET", url + "/v1/catalog/nodes", timeout=10)
        except OSError:
            time.sleep(0.05)
            continue
        if st == 200:
            history.read(name, int(hdrs["x-consul-index"]))
        time.sleep(0.01)


class RaftClusterTest(harness.TestCase):

    def setUp(self):
        super().setUp()
        for p in ("meridian", "catalogd", "gossipd", "forwarderd", "httpd"):
            if not os.access(os.path.join(harness.BIN, p), os.X_OK):
                self.fail("%s missing from %s (build first: make)" % (p, harness.BIN))
        self.config_path = os.path.join(self.tmpdir(), "raft.json")
        with open(self.config_path, "w") as f:
            json.dump(CONFIG, f)

    # ---------------------------------------------------------------- helpers
    def server_args(self, name, expect, join):
        return ["-server", "-bootstrap-expect", str(expect), "-node", name,
                "-config-file", self.config_path, "-retry-join", join]

    def start_servers(self, ips, prefix):
        agents = []
        for n, ip in enumerate(ips):
            agents.append(self.start_agent(
                ip, self.server_args("%s%d" % (prefix, n + 1), len(ips), ips[0]),
                wait=False))
        return agents

    def restart(self, agent, name, expect, join):
        return self.start_agent(agent.ip, self.server_args(name, expect, join),
                                data_dir=agent.data_dir, wait=False)

    def leader_of(self, agents):
        """The leader's "ip:8300" when every agent of agents names the same
        one, else None."""
        seen = set()
        for a in agents:
            st, _, leader = try_http_json("GET", a.url("/v1/status/leader"))
            if st != 200 or not leader:
                return None
            seen.add(leader)
        return seen.pop() if len(seen) == 1 else None

    def wait_leader(self, agents, timeout=30, what="a leader"):
        return self.wait_for(lambda: self.leader_of(agents), timeout=timeout, what=what)

    @staticmethod
    def by_address(agents, leader):
        return [a for a in agents if leader.startswith(a.ip + ":")][0]

    def stale_nodes(self, agent):
        st, hdrs, nodes = try_http_json("GET", agent.url("/v1/catalog/nodes?stale"),
                                        timeout=10)
        if st != 200:
            return None, 0
        return {n["Node"]: n["Meta"].get("k") for n in nodes}, int(hdrs["x-consul-index"])

    def assert_history(self, history, agents, timeout=30):
        """Every acknowledged write, with its value, on every agent (read
        from its own replica); indexes never went back per reader."""
        self.assertGreater(len(history.acked), 0, "no write was acknowledged")
        for a in agents:
            def has_all():
                nodes, _ = self.stale_nodes(a)
                if nodes is None:
                    return False
                missing = [n for n, v in history.acked.items() if nodes.get(n) != v]
                return not missing
            self.wait_for(has_all, timeout=timeout,
                          what="every acknowledged write on %s" % a.ip)
        for name, indexes in history.indexes.items():
            for before, after in zip(indexes, indexes[1:]):
                self.assertLessEqual(before, after, "X-Consul-Index went back for "
                                     "reader %s: %d then %d" % (name, before, after))

    def serf_health(self, agent):
        st, _, checks = try_http_json("GET", agent.url("/v1/health/state/any?stale"))
        if st != 200:
            return {}
        return {c["Node"]: c["Status"] for c in checks if c["CheckID"] == "serfHealth"}

    def check_cli(self, agent, leader, ips):
        """`meridian operator raft list-peers` once httpd serves
        /v1/operator/raft/configuration (the route is httpd's)."""
        st, _, _ = try_http_json("GET", agent.url("/v1/operator/raft/configuration"))
        if st == 404:
            return
        done = subprocess.run([MERIDIAN, "operator", "raft", "list-peers",
                               "-http-addr", agent.http_addr],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Node", "ID", "Address", "State", "Voter",
                                            "RaftProtocol"])
        rows = sorted(line.split() for line in lines[1:])
        self.assertEqual([r[2] for r in rows], sorted(ip + ":8300" for ip in ips))
        self.assertEqual([r[2] for r in rows if r[3] == "leader"], [leader])
        self.assertTrue(all(r[4] == "true" and r[5] == "3" for r in rows))

    # ------------------------------------------------------------ 3 servers
    def test_three_servers_leader_killed(self):
        ips = ["127.0.7.1", "127.0.7.2", "127.0.7.3"]
        agents = self.start_servers(ips, "t")
        leader = self.wait_leader(agents, what="the 3 servers to elect a leader")
        self.assertRegex(leader, r"^127\.0\.7\.[123]:8300$")
        st, _, peers = http_json("GET", agents[0].url("/v1/status/peers"))
        self.assertEqual(sorted(peers), sorted(ip + ":8300" for ip in ips))

        # Forwarding: a write on every server, read back from every one.
        for n, a in enumerate(agents):
            st, hdrs, obj = http_json("PUT", a.url("/v1/catalog/register"),
                                      {"Node": "fw%d" % n, "Address": "10.9.9.%d" % n})
            self.assertEqual((st, obj), (200, True))
        for a in agents:
            st, hdrs, nodes = http_json("GET", a.url("/v1/catalog/nodes"))
            self.assertEqual(st, 200)
            self.assertEqual(hdrs["x-consul-knownleader"], "true")
            self.assertTrue({"fw0", "fw1", "fw2"} <= {x["Node"] for x in nodes})
            st, hdrs, _ = http_json("GET", a.url("/v1/catalog/nodes?consistent"))
            self.assertEqual(st, 200)
        follower = [a for a in agents if not leader.startswith(a.ip + ":")][0]
        st, hdrs, _ = http_json("GET", follower.url("/v1/catalog/nodes?stale"))
        self.assertEqual(st, 200)
        self.assertLess(int(hdrs["x-consul-lastcontact"]), 5000)

        # Blocking reads on a follower wake on a write made elsewhere: a
        # stale one parked on the follower (woken as the log is applied
        # there), a default-mode one parked on the leader.
        st, hdrs, _ = http_json("GET", follower.url("/v1/catalog/nodes"))
        index = int(hdrs["x-consul-index"])
        woken = {}

        def block(mode):
            st, hdrs, nodes = http_json(
                "GET", follower.url("/v1/catalog/nodes?index=%d&wait=20s%s" % (index, mode)),
                timeout=30)
            woken[mode] = (st, int(hdrs["x-consul-index"]), {n["Node"] for n in nodes},
                           time.monotonic())
        blockers = [threading.Thread(target=block, args=(m,)) for m in ("", "&stale")]
        for t in blockers:
            t.start()
        time.sleep(0.5)     # let them park (nothing to poll for: they are parked)
        self.assertEqual(woken, {}, "blocking reads answered before any write")
        writer_at = self.by_address(agents, leader)
        sent = time.monotonic()
        st, _, obj = http_json("PUT", writer_at.url("/v1/catalog/register"),
                               {"Node": "wake", "Address": "10.9.9.9"})
        self.assertEqual((st, obj), (200, True))
        for t in blockers:
            t.join(30)
        for mode in ("", "&stale"):
            st, new_index, names, at = woken[mode]
            self.assertEqual(st, 200)
            self.assertGreater(new_index, index)
            self.assertIn("wake", names)
            self.assertLess(at - sent, 10, "blocking read%s woke late" % mode)

        # Operator view: the configuration over the catalogd RPC.
        ok, config = catalog_call(follower.data_dir, "operator.raft.configuration")
        self.assertTrue(ok, config)
        servers = config["Result"]["Servers"]
        self.assertEqual(sorted(s["Address"] for s in servers),
                         sorted(ip + ":8300" for ip in ips))
        self.assertEqual([s["Address"] for s in servers if s["Leader"]], [leader])
        self.assertTrue(all(s["Voter"] and s["ProtocolVersion"] == "3" for s in servers))
        self.assertEqual(sorted(s["Node"] for s in servers), ["t1", "t2", "t3"])
        self.check_cli(follower, leader, ips)

        # Only the leader's gossipd writes the pool into the catalog: every
        # server gets a passing serfHealth.
        self.wait_for(lambda: self.serf_health(follower) == {"t1": "passing", "t2": "passing",
                                                             "t3": "passing"},
                      timeout=20, what="serfHealth of the 3 servers")
        # ... and Consul's `consul` service, one instance per server.
        def consul_service():
            st, _, entries = try_http_json("GET", follower.url("/v1/catalog/service/consul?stale"))
            return st == 200 and sorted((e["Node"], e["ServicePort"], e["ServiceMeta"]["raft_version"])
                                        for e in entries)
        self.wait_for(lambda: consul_service() == [("t1", 8300, "3"), ("t2", 8300, "3"),
                                                   ("t3", 8300, "3")],
                      timeout=20, what="the consul service of the 3 servers")

        # Concurrent writers and readers, then the leader's agent dies.
        history = History()
        stop = threading.Event()
        urls = [a.url("") for a in agents]
        threads = [threading.Thread(target=writer, args=(history, "w%d" % n,
                                                         urls[n:] + urls[:n], stop))
                   for n in range(3)]
        threads += [threading.Thread(target=reader, args=(history, "r%d" % n, urls[n], stop))
                    for n in range(3)]
        for t in threads:
            t.start()
        try:
            self.wait_for(lambda: len(history.acked) >= 100, timeout=30,
                          what="writes acknowledged before the kill")
            old = self.by_address(agents, leader)
            old.proc.kill9()
            killed_at = time.monotonic()
            survivors = [a for a in agents if a is not old]
            new_leader = self.wait_for(
                lambda: (lambda l: l if l and l != leader else None)(self.leader_of(survivors)),
                timeout=30, what="a new leader among the survivors")
            failover = time.monotonic() - killed_at
            self.assertLess(failover, FAILOVER_BOUND_S,
                            "new leader %s after %.1fs" % (new_leader, failover))
            acked = len(history.acked)
            self.wait_for(lambda: len(history.acked) >= acked + 100, timeout=30,
                          what="writes acknowledged after the failover")
            # The new leader's gossipd took over the reflection.
            dead = old_name(old, ips, "t")
            self.wait_for(lambda: self.serf_health(survivors[0]).get(dead) == "critical",
                          timeout=30, what="the new leader to mark %s critical" % dead)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assert_history(history, survivors)

        # The killed server comes back and catches up.
        back = self.restart(old, old_name(old, ips, "t"), 3, survivors[0].ip)
        agents = survivors + [back]
        self.wait_leader(agents, what="the restarted server to know the leader")
        self.assert_history(history, [back])

        # A follower misses more than a snapshot's worth of writes: it
        # catches up from an InstallSnapshot and the log after it.
        # Snapshots are taken every 4096 entries and keep 2048; the first
        # snapshot after the kill may still keep the entries the follower
        # needs, the second (at most 4096 + 2048 entries later) never does,
        # so the writes must exceed 6144 whatever the snapshot phase is.
        leader = self.wait_leader(agents)
        lagging = [a for a in agents if not leader.startswith(a.ip + ":")][0]
        lagging_name = old_name(lagging, ips, "t")
        lagging.proc.kill9()
        alive = [a for a in agents if a is not lagging]
        more = History()
        stop = threading.Event()
        urls = [a.url("") for a in alive]
        threads = [threading.Thread(target=writer, args=(more, "s%d" % n, urls, stop, 820))
                   for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(more.failed, 0, more.errors)
        self.assertEqual(len(more.acked), 8 * 820)
        lagging = self.restart(lagging, lagging_name, 3, alive[0].ip)
        self.assert_history(more, [lagging], timeout=60)
        self.assert_history(history, [lagging])
        def installed():
            text = lagging.proc.log_text()
            # After "raft started": from the leader, not from its own disk.
            return "raft started" in text and \
                text.rfind("raft snapshot restored") > text.find("raft started")
        self.wait_for(installed, timeout=10,
                      what="the lagging server to install the leader's snapshot")

        # remove-peer of a follower: it leaves the configuration, then the
        # leader adds it back, as it is alive in the pool (Consul's
        # behaviour).
        agents = alive + [lagging]
        leader = self.wait_leader(agents)
        victim = [a for a in agents if not leader.startswith(a.ip + ":")][0]
        ok, out = catalog_call(victim.data_dir, "operator.raft.remove_peer",
                               {"Address": "nowhere:8300"})
        self.assertFalse(ok)
        self.assertIn('address \\"nowhere:8300\\" was not found in the Raft configuration',
                      out)
        ok, out = catalog_call(victim.data_dir, "operator.raft.remove_peer",
                               {"Address": victim.ip + ":8300"})
        self.assertTrue(ok, out)

        def voters():
            ok, config = catalog_call(agents[0].data_dir, "operator.raft.configuration",
                                      {"AllowStale": True})
            return ok and sorted(s["Address"] for s in config["Result"]["Servers"]
                                 if s["Voter"])
        self.wait_for(lambda: voters() == sorted(ip + ":8300" for ip in ips), timeout=30,
                      what="autopilot to add the removed (alive) server back")
        for a in agents:
            a.proc.stop()

    # ------------------------------------------------------------ 5 servers
    def test_five_servers_quorum(self):
        ips = ["127.0.7.%d" % i for i in range(11, 16)]
        agents = self.start_servers(ips, "f")
        leader = self.wait_leader(agents, what="the 5 servers to elect a leader")
        history = History()
        for a in agents:
            stop = threading.Event()
            writer(history, "a-" + a.ip, [a.url("")], stop, limit=5)
        self.assertEqual(len(history.acked), 25)

        # Two failures, the leader among them: a quorum remains.
        first = [self.by_address(agents, leader)]
        first += [a for a in agents if a not in first][:1]
        for a in first:
            a.proc.kill9()
        rest = [a for a in agents if a not in first]
        self.wait_leader(rest, timeout=30, what="a leader among 3 of 5")
        for a in rest:
            stop = threading.Event()
            writer(history, "b-" + a.ip, [a.url("")], stop, limit=5)
        self.assertEqual(len(history.acked), 40, history.errors)

        # A third failure: no quorum. Nothing is acknowledged any more: a
        # write caught by the failure fails (leadership lost, or the
        # connection to a dead leader lost), then writes fail with Consul's
        # error within the hold, reads in default mode too; stale reads
        # answer.
        third = rest[0]
        third.proc.kill9()
        last = rest[1:]
        before = len(history.acked)
        for a in last:
            # (Its outcome is unknown, as in Consul: a leader may have
            # logged it, and a later leader commit it.)
            st, _, body = harness.http("PUT", a.url("/v1/catalog/register"),
                                       {"Node": "maybe-" + a.ip, "Address": "10.3.3.3"},
                                       timeout=15)
            self.assertEqual(st, 500, body)
            self.assertTrue(body.strip())
        self.wait_for(lambda: all(try_http_json("GET", a.url("/v1/status/leader"))[2] == ""
                                  for a in last), timeout=15,
                      what="the two survivors to report no leader")
        for a in last:
            start = time.monotonic()
            st, _, body = harness.http("PUT", a.url("/v1/catalog/register"),
                                       {"Node": "never-" + a.ip, "Address": "10.3.3.3"},
                                       timeout=15)
            elapsed = time.monotonic() - start
            self.assertEqual((st, body.decode().strip()), (500, "No cluster leader"))
            self.assertLess(elapsed, HOLD_BOUND_S)
        st, _, body = harness.http("GET", last[0].url("/v1/catalog/nodes?index=1&wait=1s"),
                                   timeout=15)
        self.assertEqual((st, body.decode().strip()), (500, "No cluster leader"))
        st, hdrs, _ = http_json("GET", last[0].url("/v1/catalog/nodes?stale"))
        self.assertEqual((st, hdrs["x-consul-knownleader"]), (200, "false"))
        self.assertEqual(len(history.acked), before)

        # They come back: one cluster again, nothing acknowledged lost, and
        # nothing of the writes refused for want of a leader (never
        # proposed).
        names = {a.ip: old_name(a, ips, "f") for a in agents}
        restarted = [self.restart(a, names[a.ip], 5, last[0].ip) for a in first + [third]]
        agents = last + restarted
        self.wait_leader(agents, timeout=40, what="a leader once the servers are back")
        for a in agents:
            stop = threading.Event()
            writer(history, "c-" + a.ip, [a.url("")], stop, limit=2)
        self.assertEqual(len(history.acked), 50, history.errors)
        self.assert_history(history, agents)
        nodes, _ = self.stale_nodes(agents[0])
        self.assertFalse([n for n in nodes if n.startswith("never-")])
        for a in agents:
            a.proc.stop()

    # ---------------------------------------------------- minority cut off
    def test_minority_refuses_writes(self):
        net = Netns.create(self, 3)
        if net:
            agents = [net.start_agent(self, i, self.server_args("m%d" % (i + 1), 3, net.ip(0)))
                      for i in range(3)]
        else:
            ips = ["127.0.7.21", "127.0.7.22", "127.0.7.23"]
            agents = self.start_servers(ips, "m")
        leader = self.wait_leader(agents, what="the 3 servers to elect a leader")
        cut = self.by_address(agents, leader)
        majority = [a for a in agents if a is not cut]
        st, _, obj = http_json("PUT", majority[0].url("/v1/catalog/register"),
                               {"Node": "before", "Address": "10.4.4.4"})
        self.assertEqual((st, obj), (200, True))

        if net:
            net.isolate(agents.index(cut))
        else:
            os.killpg(cut.proc.pid, signal.SIGSTOP)
        try:
            new_leader = self.wait_for(
                lambda: (lambda l: l if l and l != leader else None)(self.leader_of(majority)),
                timeout=30, what="the majority to elect a new leader")
            st, _, obj = http_json("PUT", majority[0].url("/v1/catalog/register"),
                                   {"Node": "majority", "Address": "10.4.4.5"})
            self.assertEqual((st, obj), (200, True))
            if net:
                # The old leader runs on, alone: it steps down and refuses
                # writes; nothing it was sent is applied.
                i = agents.index(cut)
                code, text = net.curl(i, "PUT", "/v1/catalog/register",
                                      {"Node": "minority", "Address": "10.4.4.6"})
                self.assertEqual(code, 500, text)
                self.assertIn(text, ("No cluster leader",
                                     "leadership lost while committing log"))
                self.wait_for(lambda: net.curl(i, "GET", "/v1/status/leader") == (200, '""'),
                              timeout=15, what="the isolated server to know no leader")
                code, text = net.curl(i, "GET", "/v1/catalog/node/minority")
                self.assertEqual((code, text), (500, "No cluster leader"))
        finally:
            if net:
                net.heal(agents.index(cut))
            else:
                os.killpg(cut.proc.pid, signal.SIGCONT)
        # Back in the majority's cluster, with its writes and not the
        # refused one.
        self.wait_leader(agents, what="the isolated server to rejoin")

        def caught_up():
            nodes, _ = self.stale_nodes(cut)
            return nodes is not None and {"before", "majority"} <= set(nodes)
        self.wait_for(caught_up, timeout=30, what="the old leader to catch up")
        for a in agents:
            nodes, _ = self.stale_nodes(a)
            self.assertNotIn("minority", nodes)
        for a in agents:
            a.proc.stop()


def old_name(agent, ips, prefix):
    return "%s%d" % (prefix, ips.index(agent.ip) + 1)


class Netns:
    """Servers in network namespaces behind a bridge (root only): each
    server i in netns mrd7n<i> with 10.77.7.<i+1>, a bridge in netns
    mrd7hub, and this process on 10.77.7.254. isolate(i) sets server i's
    link down, heal(i) up again."""

    HUB = "mrd7hub"
    NET = "10.77.7."

    def __init__(self, count):
        self.count = count

    @classmethod
    def create(cls, test, count):
        if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("curl"):
            return None
        net = cls(count)
        test.addCleanup(net.destroy)
        try:
            net.setup()
        except (subprocess.CalledProcessError, OSError):
            net.destroy()
            return None
        return net

    @staticmethod
    def run(*argv):
        subprocess.run(argv, check=True, capture_output=True, timeout=30)

    def ns(self, i):
        return "mrd7n%d" % i

    def ip(self, i):
        return "%s%d" % (self.NET, i + 1)

    def setup(self):
        self.destroy()
        run = self.run
        run("ip", "netns", "add", self.HUB)
        run("ip", "-n", self.HUB, "link", "add", "mrd7br", "type", "bridge")
        run("ip", "-n", self.HUB, "link", "set", "mrd7br", "up")
        run("ip", "link", "add", "mrd7r", "type", "veth", "peer", "name", "mrd7rh")
        run("ip", "link", "set", "mrd7rh", "netns", self.HUB)
        run("ip", "addr", "add", self.NET + "254/24", "dev", "mrd7r")
        run("ip", "link", "set", "mrd7r", "up")
        run("ip", "-n", self.HUB, "link", "set", "mrd7rh", "master", "mrd7br")
        run("ip", "-n", self.HUB, "link", "set", "mrd7rh", "up")
        for i in range(self.count):
            ns, a, b = self.ns(i), "mrd7n%da" % i, "mrd7n%db" % i
            run("ip", "netns", "add", ns)
            run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            run("ip", "link", "set", a, "netns", ns)
            run("ip", "link", "set", b, "netns", self.HUB)
            run("ip", "-n", ns, "addr", "add", self.ip(i) + "/24", "dev", a)
            run("ip", "-n", ns, "link", "set", a, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", self.HUB, "link", "set", b, "master", "mrd7br")
            run("ip", "-n", self.HUB, "link", "set", b, "up")

    def destroy(self):
        # Deleting a namespace deletes its veth ends, and their peers.
        for name in [self.ns(i) for i in range(self.count)] + [self.HUB]:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "link", "del", "mrd7r"], capture_output=True)

    def start_agent(self, test, i, args):
        data_dir = test.tmpdir()
        ip = self.ip(i)
        argv = ["ip", "netns", "exec", self.ns(i), MERIDIAN, "agent", "-bind", ip,
                "-client", ip, "-data-dir", data_dir] + list(args)
        proc = test.spawn(argv, name="agent-" + ip)
        return harness.Agent(proc, ip, data_dir)

    def isolate(self, i):
        self.run("ip", "-n", self.HUB, "link", "set", "mrd7n%db" % i, "down")

    def heal(self, i):
        self.run("ip", "-n", self.HUB, "link", "set", "mrd7n%db" % i, "up")

    def curl(self, i, method, path, body=None):
        """An HTTP request made inside server i's namespace. Returns
        (status, body text)."""
        argv = ["ip", "netns", "exec", self.ns(i), "curl", "-s", "-m", "15", "-X", method,
                "-w", "\n%{http_code}", "http://%s:8500%s" % (self.ip(i), path)]
        if body is not None:
            argv += ["--data-binary", json.dumps(body)]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
        text, _, code = out.rpartition("\n")
        return int(code or 0), text.strip()
