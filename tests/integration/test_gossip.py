"""Integration tests of gossipd (docs/protocol/gossip.md): real gossipd
processes on loopback (127.0.3.x, default ports 8301/8302), driven through
their local RPC with build/tests/mrpc, on the fast gossip profile (100 ms
probe, timeout and gossip intervals).

Covered: join and convergence of 11 agents, kill -9 seen as failed by all,
graceful leave seen as left, refutation of a false suspicion (SIGSTOP then
SIGCONT), rejoin with a higher incarnation through retry_join, join by host
name (and one node on 127.0.0.1:18301 for it), datacenter and WAN rules,
force-leave with prune, encryption (a node with another key stays out) and
key rotation with no member lost, WAN federation by flood join, datacenters
and coordinates, and the serfHealth reflection into a real catalogd."""

import json
import os
import signal
import subprocess
import uuid

from tests.integration import harness

MRPC = os.path.join(harness.TOOLS, "mrpc")

ALIVE, LEAVING, LEFT, FAILED = 1, 2, 3, 4

KEY1 = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
KEY2 = "H3Lf+XGJcSuy2kMLlxWCkxNT2MJXHVlW8TR+HM2nQ0w="
KEY3 = "T9jncgl9mbLus+baTTa7q7nPSWrdhiKeGjEz8TWTeRo="


def fast_profile(suspicion_mult=5):
    """Consul -dev timers; a suspicion multiplier of 5 leaves a SIGSTOPped
    node time to refute before it is declared failed."""
    return {"gossip_nodes": 3, "gossip_interval": "100ms", "probe_interval": "100ms",
            "probe_timeout": "100ms", "suspicion_mult": suspicion_mult,
            "retransmit_mult": 3, "push_pull_interval": "5s"}


class RpcError(Exception):
    def __init__(self, rc, text, detail=""):
        super().__init__("mrpc exit %d: %s%s" % (rc, text, "\n" + detail if detail else ""))
        self.rc = rc
        self.text = text


class Node:
    """One gossipd process with its own data dir and config file."""

    def __init__(self, test, name, ip, dc="dc1", server=False, extra=None):
        self.test = test
        self.name = name
        self.ip = ip
        self.dc = dc
        self.server = server
        self.data_dir = os.path.join(test.tmpdir(), name)
        os.makedirs(self.data_dir)
        config = {"datacenter": dc, "node_name": name, "node_id": str(uuid.uuid4()),
                  "server": server, "data_dir": self.data_dir, "bind_addr": ip,
                  "advertise_addr": ip, "log_level": "info",
                  "gossip_lan": fast_profile(), "gossip_wan": fast_profile()}
        config.update(extra or {})
        self.config_path = os.path.join(self.data_dir, "gossipd.json")
        with open(self.config_path, "w") as f:
            json.dump(config, f)
        self.proc = None

    def start(self):
        self.proc = self.test.spawn([os.path.join(harness.BIN, "gossipd"),
                                     "-config-file", self.config_path],
                                    name="gossipd-" + self.name, log_dir=self.data_dir)
        self.test.wait_for(self.up, timeout=10, what="gossipd %s to answer" % self.name)
        return self

    def up(self):
        if not self.proc.alive():
            self.test.fail("gossipd %s exited:\n%s" % (self.name, self.proc.log_text()[-3000:]))
        try:
            self.rpc("members", timeout_ms=500)
            return True
        except RpcError:
            return False

    def rpc(self, command, body=None, timeout_ms=5000):
        return self.rpc_daemon("gossipd", command, body, timeout_ms)

    def rpc_daemon(self, daemon, command, body=None, timeout_ms=5000):
        r = subprocess.run([MRPC, self.data_dir, daemon, command, json.dumps(body or {}),
                            str(timeout_ms)], capture_output=True, text=True,
                           timeout=timeout_ms / 1000 + 10)
        if r.returncode != 0:
            raise RpcError(r.returncode, r.stderr.strip())
        return json.loads(r.stdout)

    def view(self, wan=False):
        """{member name: status} as this node sees its pool."""
        return {m["Name"]: m["Status"] for m in self.rpc("members", {"WAN": wan})}

    def stats(self, pool="lan"):
        return self.rpc("stats")[pool]

    def join(self, *addresses, wan=False):
        try:
            return self.rpc("join", {"Addresses": list(addresses), "WAN": wan},
                            timeout_ms=15000)
        except RpcError as e:
            raise RpcError(e.rc, e.text, self.test.log_tails(6)) from None


class GossipTest(harness.TestCase):

    def nodes(self, count, base, **kwargs):
        return [Node(self, "g%d" % (base + i), "127.0.3.%d" % (base + i), **kwargs)
                for i in range(count)]

    def converged(self, nodes, expected):
        """Every node sees exactly `expected` ({name: status})."""
        return all(n.view() == expected for n in nodes)

    def log_tails(self, lines=12):
        """The end of every gossipd log of this test, for failure messages."""
        out = []
        for p in self._procs:
            tail = p.log_text().splitlines()[-lines:]
            out.append("--- %s (%s)\n%s" % (p.name, "running" if p.alive() else "exited",
                                             "\n".join(tail)))
        return "\n".join(out)

    def wait_view(self, nodes, expected, timeout=20, what="the pool to converge"):
        last = {}

        def check():
            for n in nodes:
                last[n.name] = n.view()
            return all(v == expected for v in last.values())
        try:
            self.wait_for(check, timeout=timeout, what=what)
        except AssertionError:
            raise AssertionError("%s; expected %s, last views %s\n%s"
                                 % (what, expected, last, self.log_tails()))

    def failed_events(self, nodes):
        return sum(n.stats()["Events"]["member.failed"] for n in nodes)

    # ------------------------------------------------------------------
    def test_cluster_lifecycle(self):
        """11 agents: join, kill -9, leave, false suspicion, rejoin."""
        nodes = [Node(self, "g1", "127.0.3.1", server=True)] + self.nodes(10, 2)
        for n in nodes:
            n.start()
        seed = nodes[0]
        for n in nodes[1:]:
            self.assertEqual(n.join(seed.ip), {"Joined": 1})
        everyone = {n.name: ALIVE for n in nodes}
        self.wait_view(nodes, everyone, what="11 agents to see each other alive")
        member = [m for m in seed.rpc("members") if m["Name"] == "g2"][0]
        self.assertEqual(member["Addr"], "127.0.3.2")
        self.assertEqual(member["Port"], 8301)
        self.assertEqual(member["Tags"]["role"], "node")
        self.assertEqual(member["Tags"]["dc"], "dc1")
        self.assertEqual((member["ProtocolMin"], member["ProtocolMax"], member["ProtocolCur"],
                          member["DelegateMin"], member["DelegateMax"], member["DelegateCur"]),
                         (1, 5, 2, 2, 5, 4))
        server = [m for m in seed.rpc("members") if m["Name"] == "g1"][0]
        self.assertEqual(server["Tags"]["role"], "consul")
        self.assertEqual(server["Tags"]["port"], "8300")
        self.assertEqual(server["Tags"]["wan_join_port"], "8302")

        # Coordinates come from probe RTTs: every member gets one.
        def coords():
            got = seed.rpc("coordinate.nodes")
            return len(got) == 11 and all(len(c["Coord"]["Vec"]) == 8 for c in got)
        self.wait_for(coords, timeout=10, what="coordinates of every member")

        # Rules: a client cannot join the WAN; another datacenter is refused.
        with self.assertRaises(RpcError) as err:
            nodes[1].join(seed.ip, wan=True)
        self.assertIn("Must be a server to join WAN cluster", err.exception.text)
        outsider = Node(self, "x-dc2", "127.0.3.40", dc="dc2").start()
        with self.assertRaises(RpcError) as err:
            outsider.join(seed.ip)
        self.assertIn("Member 'x-dc2' part of wrong datacenter 'dc2'", err.exception.text)
        self.assertNotIn("x-dc2", seed.view())
        with self.assertRaises(RpcError) as err:
            seed.rpc("join", {"Addresses": "127.0.3.2"})
        self.assertEqual(err.exception.rc, 1)

        # kill -9: every other member sees it failed.
        victim = nodes[4]
        victim_incarnation = victim.stats()["Incarnation"]
        victim.proc.kill9()
        survivors = [n for n in nodes if n is not victim]
        everyone[victim.name] = FAILED
        self.wait_view(survivors, everyone, what="kill -9 of g5 seen as failed by all")

        # Graceful leave: seen as left (not failed); the node stays up.
        leaver = nodes[5]
        self.assertEqual(leaver.rpc("leave", timeout_ms=10000), {})
        self.assertEqual(leaver.view()[leaver.name], LEFT)
        remaining = [n for n in survivors if n is not leaver]
        everyone[leaver.name] = LEFT
        self.wait_view(remaining, everyone, what="graceful leave of g6 seen as left")
        self.assertTrue(leaver.proc.alive())
        with self.assertRaises(RpcError):
            leaver.join(seed.ip)

        # False suspicion: a stopped node is suspected, refutes once
        # resumed, and nobody declares it failed.
        sleeper = nodes[7]
        others = [n for n in remaining if n is not sleeper]
        failed_before = self.failed_events(remaining)
        refuted_once = False
        for _ in range(3):
            refuted = sleeper.stats()["Refutations"]
            sleeper.proc.signal(signal.SIGSTOP)
            try:
                self.wait_for(lambda: any(n.stats()["Suspect"] > 0 for n in others),
                              timeout=2, interval=0.01, what="a suspicion of g8")
            except AssertionError:
                pass
            finally:
                sleeper.proc.signal(signal.SIGCONT)
            try:
                self.wait_for(lambda: sleeper.stats()["Refutations"] > refuted, timeout=3,
                              what="g8 to refute")
                refuted_once = True
                break
            except AssertionError:
                continue
        self.assertTrue(refuted_once, "g8 was never suspected, or never refuted")
        self.wait_view(remaining, everyone, what="g8 alive again everywhere")
        self.assertEqual(self.failed_events(remaining), failed_before,
                         "a false suspicion ended in a failure")

        # force-leave -prune of the left node removes it everywhere.
        self.assertEqual(seed.rpc("force-leave", {"Node": leaver.name, "Prune": True}), {})
        del everyone[leaver.name]
        self.wait_view(remaining, everyone, what="g6 pruned everywhere")
        with self.assertRaises(RpcError) as err:
            seed.rpc("force-leave", {"Node": "nobody"})
        self.assertIn("No node found with name 'nobody'", err.exception.text)

        # Rejoin: the killed node restarts (same name, address and data
        # dir), joins by retry_join and comes back alive with a higher
        # incarnation.
        with open(victim.config_path) as f:
            config = json.load(f)
        config["retry_join"] = [seed.ip + ":8301"]
        config["retry_interval"] = "200ms"
        with open(victim.config_path, "w") as f:
            json.dump(config, f)
        victim.start()
        everyone[victim.name] = ALIVE
        self.wait_view(remaining + [victim], everyone, what="g5 to rejoin")
        self.assertGreater(victim.stats()["Incarnation"], victim_incarnation)

        for n in remaining + [victim, outsider, leaver]:
            n.proc.stop()

    # ------------------------------------------------------------------
    def test_encryption_and_rotation(self):
        """A node with another key stays out; rotation loses nobody."""
        nodes = self.nodes(4, 11, extra={"encrypt": KEY1})
        for n in nodes:
            n.start()
        for n in nodes[1:]:
            n.join(nodes[0].ip)
        everyone = {n.name: ALIVE for n in nodes}
        self.wait_view(nodes, everyone, what="encrypted pool to converge")
        self.assertTrue(nodes[0].stats()["Encrypted"])

        stranger = Node(self, "g20", "127.0.3.20", extra={"encrypt": KEY3}).start()
        with self.assertRaises(RpcError):
            stranger.join(nodes[0].ip)
        self.wait_for(lambda: nodes[0].stats()["Dropped"]["auth"] > 0, timeout=5,
                      what="the stranger's packets to fail authentication")
        self.assertEqual(nodes[0].view(), everyone)
        self.assertEqual(stranger.view(), {"g20": ALIVE})

        def listed(key, count, primary=None):
            result = nodes[2].rpc("keyring", {"Op": "list"}, timeout_ms=10000)
            lan = [r for r in result if not r["WAN"]][0]
            ok = lan["Keys"].get(key) == count and lan["NumNodes"] == 4
            return ok and (primary is None or lan["PrimaryKeys"].get(primary) == count)

        self.assertTrue(listed(KEY1, 4, primary=KEY1))
        before = self.failed_events(nodes)
        self.assertIsInstance(nodes[1].rpc("keyring", {"Op": "install", "Key": KEY2},
                                           timeout_ms=10000), list)
        self.assertTrue(listed(KEY2, 4))
        nodes[1].rpc("keyring", {"Op": "use", "Key": KEY2}, timeout_ms=10000)
        self.assertTrue(listed(KEY2, 4, primary=KEY2))
        with self.assertRaises(RpcError) as err:
            nodes[3].rpc("keyring", {"Op": "remove", "Key": KEY2}, timeout_ms=10000)
        self.assertIn("Removing the primary key is not allowed", err.exception.text)
        nodes[3].rpc("keyring", {"Op": "remove", "Key": KEY1}, timeout_ms=10000)
        self.assertFalse(listed(KEY1, 4))
        with self.assertRaises(RpcError) as err:
            nodes[0].rpc("keyring", {"Op": "use", "Key": "not-base64"})
        self.assertEqual(err.exception.rc, 1)

        # Nobody lost, nobody failed; the keyring file holds the new key.
        self.wait_view(nodes, everyone, timeout=5, what="the pool after rotation")
        self.assertEqual(self.failed_events(nodes), before)
        with open(os.path.join(nodes[3].data_dir, "gossip", "keyring")) as f:
            self.assertEqual(json.load(f)["LAN"], [KEY2])
        self.assertEqual(os.stat(os.path.join(nodes[3].data_dir, "gossip", "keyring")).st_mode
                         & 0o777, 0o600)
        # Restarted, a node uses its keyring file, not the old encrypt key.
        nodes[3].proc.stop()
        nodes[3].start()
        nodes[3].join(nodes[0].ip)
        self.wait_view(nodes, everyone, what="the restarted node to rejoin with the new key")
        for n in nodes + [stranger]:
            n.proc.stop()

    # ------------------------------------------------------------------
    def test_wan_federation(self):
        """One join -wan per datacenter federates every server (flood join)."""
        dc1 = [Node(self, "s1", "127.0.3.31", server=True),
               Node(self, "s2", "127.0.3.32", server=True),
               Node(self, "c1", "127.0.3.33")]
        dc2 = [Node(self, "t1", "127.0.3.34", dc="dc2", server=True)]
        for n in dc1 + dc2:
            n.start()
        dc1[1].join(dc1[0].ip)
        dc1[2].join(dc1[0].ip)
        self.wait_view(dc1, {"s1": ALIVE, "s2": ALIVE, "c1": ALIVE}, what="dc1 LAN")
        # One WAN join from one dc1 server reaches dc2; s2 follows by flood join.
        self.assertEqual(dc2[0].join(dc1[0].ip + ":8302", wan=True), {"Joined": 1})
        wan = {"s1.dc1": ALIVE, "s2.dc1": ALIVE, "t1.dc2": ALIVE}

        def wan_views():
            return all(n.view(wan=True) == wan for n in dc1[:2] + dc2)
        self.wait_for(wan_views, timeout=30, what="the WAN pool to hold all three servers")
        self.assertEqual(dc1[2].view(wan=True), {})
        tags = [m for m in dc2[0].rpc("members", {"WAN": True}) if m["Name"] == "s2.dc1"][0]
        self.assertEqual((tags["Port"], tags["Tags"]["dc"], tags["Tags"]["role"]),
                         (8302, "dc1", "consul"))
        self.assertEqual(dc1[0].rpc("datacenters"), ["dc1", "dc2"])
        self.assertEqual(dc2[0].rpc("datacenters"), ["dc2", "dc1"])
        self.assertEqual(dc1[2].rpc("datacenters"), ["dc1"])

        def dc_coords():
            areas = dc1[0].rpc("coordinate.datacenters")
            names = [a["Datacenter"] for a in areas]
            return names == ["dc1", "dc2"] and all(a["AreaID"] == "wan" for a in areas) \
                and len(areas[1]["Coordinates"]) == 1
        self.wait_for(dc_coords, timeout=10, what="WAN coordinates of both datacenters")
        # The LAN of dc1 never learns dc2's server.
        self.assertNotIn("t1", dc1[0].view())
        for n in dc1 + dc2:
            n.proc.stop()

    # ------------------------------------------------------------------
    def test_join_by_host_name(self):
        """Join addresses may be host names (docs/protocol/gossip.md, "Join
        addresses"), in the join RPC and in retry_join. The seed listens on
        127.0.0.1, what localhost resolves to on every machine, on port
        18301 so that no agent on the default port is disturbed."""
        seed = Node(self, "h1", "127.0.0.1", extra={"ports": {"serf_lan": 18301}}).start()
        joiner = Node(self, "h2", "127.0.3.51").start()
        self.assertEqual(joiner.join("localhost:18301"), {"Joined": 1})
        self.wait_view([seed, joiner], {"h1": ALIVE, "h2": ALIVE})
        member = [m for m in joiner.rpc("members") if m["Name"] == "h1"][0]
        self.assertEqual((member["Addr"], member["Port"]), ("127.0.0.1", 18301))

        late = Node(self, "h3", "127.0.3.52",
                    extra={"retry_join": ["localhost:18301"], "retry_interval": "200ms"})
        late.start()
        self.wait_view([seed, joiner, late], {"h1": ALIVE, "h2": ALIVE, "h3": ALIVE},
                       what="h3 to join through retry_join by host name")

        # A malformed name fails that address and changes nothing.
        with self.assertRaises(RpcError) as err:
            joiner.join("bad..name")
        self.assertIn("Failed to join bad..name: address must be ip, ip:port, [ipv6]:port, "
                      "host or host:port", err.exception.text)
        self.assertEqual(joiner.view(), {"h1": ALIVE, "h2": ALIVE, "h3": ALIVE})
        for n in (seed, joiner, late):
            n.proc.stop()

    def test_catalog_reflection(self):
        """serfHealth: the leader server keeps the catalog in line with
        the LAN pool, and resyncs after catalogd restarts."""
        server = Node(self, "r1", "127.0.3.41", server=True, extra={"bootstrap_expect": 1})
        clients = [Node(self, "r2", "127.0.3.42"), Node(self, "r3", "127.0.3.43")]
        catalogd = [self.spawn([os.path.join(harness.BIN, "catalogd"), "-config-file",
                                server.config_path], name="catalogd", log_dir=server.data_dir)]
        for n in [server] + clients:
            n.start()
        for n in clients:
            n.join(server.ip)

        def checks():
            try:
                result = server.rpc_daemon("catalogd", "health.state", {"State": "any"})
            except RpcError:
                return None
            return {c["Node"]: (c["Status"], c["Output"]) for c in result["Result"]
                    if c["CheckID"] == "serfHealth" and c["Name"] == "Serf Health Status"}

        passing = ("passing", "Agent alive and reachable")
        critical = ("critical", "Agent not live or unreachable")
        self.wait_for(lambda: checks() == {"r1": passing, "r2": passing, "r3": passing},
                      timeout=20, what="every member registered with a passing serfHealth")
        nodes = server.rpc_daemon("catalogd", "catalog.nodes")["Result"]
        r2 = [n for n in nodes if n["Node"] == "r2"][0]
        self.assertEqual(r2["Address"], "127.0.3.42")
        self.assertEqual(r2["Datacenter"], "dc1")

        clients[1].proc.kill9()
        self.wait_for(lambda: checks() == {"r1": passing, "r2": passing, "r3": critical},
                      timeout=20, what="the killed member critical")
        clients[0].rpc("leave", timeout_ms=10000)
        self.wait_for(lambda: checks() == {"r1": passing, "r3": critical}, timeout=20,
                      what="the member that left deregistered")

        # catalogd down while r3 comes back: the resync after its restart
        # repairs the catalog.
        catalogd[0].kill9()
        clients[1].start()
        clients[1].join(server.ip)
        self.wait_for(lambda: server.view().get("r3") == ALIVE, timeout=20, what="r3 back")
        catalogd.append(self.spawn([os.path.join(harness.BIN, "catalogd"), "-config-file",
                                    server.config_path], name="catalogd2",
                                   log_dir=server.data_dir))
        self.wait_for(lambda: checks() == {"r1": passing, "r3": passing}, timeout=30,
                      what="the resync after catalogd restarted")
        for n in [server] + clients:
            n.proc.stop()
        catalogd[1].stop()
