"""The first seed document, command for command, as an integration test:
two datacenters bootstrapped separately, federated with `join -wan`, then
queried across DCs from a server and from a client agent (catalog and
network coordinates); a blocking query on dc2 through dc1; dc2 going away
and coming back without touching dc1."""

import json
import os
import subprocess
import threading
import time

from tests.integration import harness
from tests.integration.harness import http, http_json, try_http_json

DC1_SERVER, DC1_CLIENT = "127.0.8.1", "127.0.8.2"
DC2_SERVER, DC2_CLIENT = "127.0.8.11", "127.0.8.12"
FAST = {
    "performance": {"raft_multiplier": 1},
    "retry_interval": "1s", "retry_interval_wan": "1s",
    "gossip_lan": {"probe_interval": "200ms", "probe_timeout": "100ms",
                   "gossip_interval": "100ms", "suspicion_mult": 3,
                   "push_pull_interval": "2s"},
    "gossip_wan": {"probe_interval": "200ms", "probe_timeout": "100ms",
                   "gossip_interval": "100ms", "suspicion_mult": 3,
                   "push_pull_interval": "2s"},
}


def meridian(command, *args, addr):
    # Flags go before positional arguments: like Consul's CLI (Go's flag
    # package), `meridian join` stops parsing flags at the first address.
    out = subprocess.run([os.path.join(harness.BIN, "meridian"), command,
                          "-http-addr", addr + ":8500"] + list(args),
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


class FederationTest(harness.TestCase):

    def node(self, name, dc, ip, server, join=None, data_dir=None, extra=()):
        cfg = os.path.join(self.tmpdir(), "fast.json")
        with open(cfg, "w") as f:
            json.dump(FAST, f)
        args = ["-datacenter", dc, "-node", name, "-config-file", cfg,
                "-primary-datacenter", "dc1"]
        if server:
            args += ["-server", "-bootstrap-expect", "1"]
        if join:
            args += ["-retry-join", join]
        args += list(extra)
        agent = self.start_agent(ip, args, data_dir=data_dir, wait=False)
        self.wait_for(lambda: self._ready(agent), timeout=30,
                      what="%s answering with a leader" % name)
        return agent

    def _ready(self, agent):
        if not agent.proc.alive():
            self.fail("agent %s exited:\n%s" % (agent.ip, agent.proc.log_text()[-3000:]))
        st, _, leader = try_http_json("GET", agent.url("/v1/status/leader"))
        return st == 200 and bool(leader)

    def nodes(self, agent, dc):
        st, _, nodes = http_json("GET", agent.url("/v1/catalog/nodes?dc=" + dc))
        return st, sorted(n["Node"] for n in nodes) if st == 200 else nodes

    def coordinates(self, agent, path):
        st, _, body = http_json("GET", agent.url(path))
        self.assertEqual(st, 200, body)
        return body

    def coordinates_of(self, agent, path, names, key="Node"):
        """The list at path once its entries' key values are names."""
        entries = self.coordinates(agent, path)
        return entries if [e[key] for e in entries] == names else None

    def check_coordinates(self, s1, c1):
        """dc2's LAN coordinates and the WAN coordinates, asked in dc1."""
        # dc2's nodes, answered by dc2's server through dc1's (and from the
        # client agent, through a server of dc1 first); coordinates appear
        # once the nodes probed each other
        for agent in (s1, c1):
            entries = self.wait_for(
                lambda: self.coordinates_of(agent, "/v1/coordinate/nodes?dc=dc2", ["c2", "s2"]),
                timeout=20, what="dc2's coordinates through %s" % agent.ip)
            for entry in entries:
                self.assertEqual(entry["Segment"], "")
                coord = entry["Coord"]
                self.assertEqual(len(coord["Vec"]), 8)
                for field in ("Error", "Adjustment", "Height"):
                    self.assertIsInstance(coord[field], (int, float), field)
        # one node of dc2; one it does not know
        one = self.coordinates(c1, "/v1/coordinate/node/s2?dc=dc2")
        self.assertEqual([e["Node"] for e in one], ["s2"])
        st, _, body = http("GET", s1.url("/v1/coordinate/node/c1?dc=dc2"))
        self.assertEqual((st, body), (404, b""))
        # the local DC still comes from the node's own gossipd
        self.wait_for(lambda: self.coordinates_of(c1, "/v1/coordinate/nodes?dc=dc1",
                                                  ["c1", "s1"]), what="dc1's coordinates")
        # WAN coordinates on a client agent: a server of dc1 answers
        areas = self.wait_for(
            lambda: self.coordinates_of(c1, "/v1/coordinate/datacenters", ["dc1", "dc2"],
                                        key="Datacenter"),
            what="both DCs in the client agent's /v1/coordinate/datacenters")
        self.assertEqual([a["AreaID"] for a in areas], ["wan", "wan"])
        # unknown DC, from a server and from a client agent
        st, _, body = http("GET", s1.url("/v1/coordinate/nodes?dc=nope"))
        self.assertEqual((st, body), (500, b"No path to datacenter"))
        st, _, body = http("GET", c1.url("/v1/coordinate/nodes?dc=nope"))
        self.assertEqual((st, body), (500, b"rpc error making call: No path to datacenter"))
        st, _, body = http("GET", c1.url("/v1/coordinate/node/s2?dc=nope"))
        self.assertEqual((st, body), (500, b"rpc error making call: No path to datacenter"))

    def test_seed_document(self):
        s1 = self.node("s1", "dc1", DC1_SERVER, True)
        c1 = self.node("c1", "dc1", DC1_CLIENT, False, join=DC1_SERVER)
        s2 = self.node("s2", "dc2", DC2_SERVER, True)
        c2 = self.node("c2", "dc2", DC2_CLIENT, False, join=DC2_SERVER)
        for server, names in ((s1, ["c1", "s1"]), (s2, ["c2", "s2"])):
            self.wait_for(lambda: self.nodes(server, "")[1] == names,
                          what="LAN members in %s's catalog" % server.ip)

        # `meridian members -wan` lists only the servers of dc1 ...
        rc, out, err = meridian("members", "-wan", addr=DC1_SERVER)
        self.assertEqual(rc, 0, err)
        rows = [l.split() for l in out.splitlines()[1:] if l.strip()]
        self.assertEqual([r[0] for r in rows], ["s1.dc1"])
        self.assertEqual(rows[0][1], DC1_SERVER + ":8302")
        # ... a client does not take part in the WAN pool
        st, _, body = http("PUT", c1.url("/v1/agent/join/%s?wan=1" % DC2_SERVER))
        self.assertEqual((st, body), (500, b"Must be a server to join WAN cluster"))

        # `meridian join -wan <dc2 server>`
        rc, out, err = meridian("join", "-wan", DC2_SERVER, addr=DC1_SERVER)
        self.assertEqual(rc, 0, err)
        self.assertIn("Successfully joined cluster by contacting 1 nodes.", out)

        def wan_names():
            rc, out, _ = meridian("members", "-wan", addr=DC1_SERVER)
            return sorted(l.split()[0] for l in out.splitlines()[1:] if " alive " in l)

        self.wait_for(lambda: wan_names() == ["s1.dc1", "s2.dc2"], what="WAN pool of both DCs")
        # sorted by RTT from the answering server, its own DC first
        for agent, order in ((s1, ["dc1", "dc2"]), (c1, ["dc1", "dc2"]), (s2, ["dc2", "dc1"])):
            self.wait_for(lambda: http_json("GET", agent.url("/v1/catalog/datacenters"))[2]
                          == order, what="datacenters on %s" % agent.ip)
        # each DC's nodes, asked from dc1's server and from a dc1 client
        for agent in (s1, c1):
            self.assertEqual(self.nodes(agent, "dc1"), (200, ["c1", "s1"]))
            self.assertEqual(self.nodes(agent, "dc2"), (200, ["c2", "s2"]))
            st, _, svc = http_json("GET", agent.url("/v1/health/service/nothing?dc=dc2"))
            self.assertEqual((st, svc), (200, []))
            st, _, leader = http_json("GET", agent.url("/v1/status/leader?dc=dc2"))
            self.assertEqual((st, leader), (200, DC2_SERVER + ":8300"))
        self.check_coordinates(s1, c1)
        # a write through dc1 lands in dc2
        st, _, ok = http_json("PUT", c1.url("/v1/catalog/register?dc=dc2"),
                              {"Node": "ext", "Address": "10.2.0.1", "Datacenter": "dc2"})
        self.assertEqual((st, ok), (200, True))
        self.assertIn("ext", self.nodes(s2, "dc2")[1])
        self.assertNotIn("ext", self.nodes(s1, "dc1")[1])

        # unknown DC, from a server and from a client agent
        st, _, body = http("GET", s1.url("/v1/catalog/nodes?dc=dc9"))
        self.assertEqual((st, body), (500, b"No path to datacenter"))
        st, _, body = http("GET", c1.url("/v1/catalog/nodes?dc=dc9"))
        self.assertEqual((st, body), (500, b"rpc error making call: No path to datacenter"))

        # a blocking query on dc2, asked through dc1, wakes on dc2's change;
        # first let dc2's start-up writes (serfHealth of its members) settle
        def settled():
            checks = http_json("GET", s2.url("/v1/health/state/passing"))[2]
            return {c["Node"] for c in checks if c["CheckID"] == "serfHealth"} >= {"s2", "c2"}

        self.wait_for(settled, what="dc2's members reflected in its catalog")
        st, hdrs, _ = http_json("GET", s1.url("/v1/catalog/nodes?dc=dc2"))
        index = int(hdrs["x-consul-index"])

        # it parks: with nothing changing, it answers at the end of its wait
        # (a background write may end a wait early, as in Consul: try again)
        def parks():
            st, hdrs, _ = http_json("GET", s1.url("/v1/catalog/nodes?dc=dc2"))
            idx = int(hdrs["x-consul-index"])
            t = time.monotonic()
            st, hdrs, _ = http_json("GET", s1.url(
                "/v1/catalog/nodes?dc=dc2&index=%d&wait=1s" % idx), timeout=30)
            return st == 200 and time.monotonic() - t >= 0.9 and int(hdrs["x-consul-index"]) == idx

        self.wait_for(parks, timeout=20, what="a blocking query on dc2 that parks for its wait")
        result = {}

        def block():
            # a client's loop: block on the last index until "late" shows up
            idx = index
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                resp = http_json("GET", s1.url(
                    "/v1/catalog/nodes?dc=dc2&index=%d&wait=60s" % idx), timeout=90)
                st, hdrs, nodes = resp
                if st == 200 and "late" in [n["Node"] for n in nodes]:
                    result["resp"] = resp
                    result["at"] = time.monotonic()
                    return
                idx = int(hdrs.get("x-consul-index", idx))

        th = threading.Thread(target=block)
        th.start()
        time.sleep(0.5)
        written = time.monotonic()
        http_json("PUT", s2.url("/v1/catalog/register"), {"Node": "late", "Address": "10.2.0.2"})
        th.join(60)
        self.assertFalse(th.is_alive())
        st, hdrs, nodes = result["resp"]
        self.assertEqual(st, 200)
        self.assertGreater(int(hdrs["x-consul-index"]), index)
        self.assertLess(result["at"] - written, 10, "the blocking query did not wake on the write")

        # dc2 goes away: dc1 keeps serving itself; ?dc=dc2 fails promptly
        c2.proc.stop()
        s2.proc.stop()
        for _ in range(20):
            t = time.monotonic()
            self.assertEqual(self.nodes(s1, "dc1")[0], 200)
            self.assertEqual(self.nodes(c1, "dc1")[0], 200)
            self.assertLess(time.monotonic() - t, 1.0, "local requests slowed down")

        def dc2_fails():
            t = time.monotonic()
            st, _, body = http("GET", s1.url("/v1/catalog/nodes?dc=dc2"), timeout=15)
            elapsed = time.monotonic() - t
            self.assertLess(elapsed, 10, "?dc=dc2 did not fail promptly")
            return st == 500 and body == b"Remote DC has no server currently reachable"

        self.wait_for(dc2_fails, timeout=30, what="dc2 seen unreachable")
        t = time.monotonic()
        st, _, body = http("GET", c1.url("/v1/catalog/nodes?dc=dc2"), timeout=15)
        self.assertEqual(st, 500)
        self.assertIn(b"Remote DC has no server currently reachable", body)
        self.assertLess(time.monotonic() - t, 2)
        st, _, body = http("GET", s1.url("/v1/coordinate/nodes?dc=dc2"), timeout=15)
        self.assertEqual((st, body), (500, b"Remote DC has no server currently reachable"))
        # the list of DCs still names dc2 (Consul keeps failed members)
        self.assertEqual(http_json("GET", s1.url("/v1/catalog/datacenters"))[2], ["dc1", "dc2"])

        # dc2 comes back with its data; dc1 is not restarted
        s1_pid = s1.proc.pid
        s2 = self.node("s2", "dc2", DC2_SERVER, True, data_dir=s2.data_dir)
        self.wait_for(lambda: self.nodes(s1, "dc2") == (200, ["c2", "ext", "late", "s2"])
                      or self.nodes(s1, "dc2") == (200, ["ext", "late", "s2"]),
                      timeout=60, what="?dc=dc2 working again through dc1")
        self.assertTrue(s1.proc.alive())
        self.assertEqual(s1.proc.pid, s1_pid)
        for agent in (c1, s1, s2):
            agent.proc.stop()
