"""httpd's remote views (docs/protocol/server-rpc.md, "Remote views
(httpd)"): a forwarded read is answered again without the remote DC, a
client reads its own writes through the view, changes made elsewhere reach
it, `?consistent` bypasses it, and a remote DC that goes away is not hidden
by it."""

import json
import os
import signal
import subprocess

from tests.integration import harness
from tests.integration.harness import http, http_json, try_http_json

DC1_SERVER, DC1_CLIENT = "127.0.4.1", "127.0.4.2"
DC2_SERVER = "127.0.4.11"
FAST = {
    "performance": {"raft_multiplier": 1},
    "retry_interval": "1s", "retry_interval_wan": "1s",
    "gossip_lan": {"probe_interval": "200ms", "probe_timeout": "100ms",
                   "gossip_interval": "100ms", "suspicion_mult": 3},
    "gossip_wan": {"probe_interval": "200ms", "probe_timeout": "100ms",
                   "gossip_interval": "100ms", "suspicion_mult": 3},
}


def child_pid(agent, name):
    out = subprocess.run(["pgrep", "-P", str(agent.proc.pid), "-x", name],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def node_names(agent, query=""):
    st, hdrs, nodes = http_json("GET", agent.url("/v1/catalog/nodes" + query))
    if st != 200:
        return st, None, nodes
    return st, int(hdrs["x-consul-index"]), sorted(n["Node"] for n in nodes)


class RemoteViewsTest(harness.TestCase):

    def agent(self, name, dc, ip, server, join=None):
        cfg = os.path.join(self.tmpdir(), "fast.json")
        with open(cfg, "w") as f:
            json.dump(FAST, f)
        args = ["-datacenter", dc, "-node", name, "-config-file", cfg]
        args += ["-server", "-bootstrap-expect", "1"] if server else ["-retry-join", join]
        return self.start_agent(ip, args)

    def register(self, agent, node, query=""):
        st, _, obj = http_json("PUT", agent.url("/v1/catalog/register" + query),
                               {"Node": node, "Address": "10.9.0.1"})
        self.assertEqual((st, obj), (200, True))

    def test_views(self):
        s1 = self.agent("s1", "dc1", DC1_SERVER, True)
        c1 = self.agent("c1", "dc1", DC1_CLIENT, False, join=DC1_SERVER)
        s2 = self.agent("s2", "dc2", DC2_SERVER, True)
        st, _, _ = http("PUT", s1.url("/v1/agent/join/%s?wan=1" % DC2_SERVER))
        self.assertEqual(st, 200)
        self.wait_for(lambda: node_names(s1, "?dc=dc2")[0] == 200, timeout=20,
                      what="dc2 reachable from dc1")
        self.wait_for(lambda: node_names(c1)[0] == 200 and "c1" in node_names(c1)[2],
                      timeout=20, what="the client agent in dc1's catalog")
        # Views are kept only while httpd hears forwarderd (its first
        # heartbeat comes within about 100 ms of the start).
        for a in (s1, c1):
            self.wait_for(lambda: "httpd: forwarderd seen" in a.proc.log_text(), timeout=10,
                          what="httpd on %s to hear forwarderd" % a.ip)

        # A client reads its own writes through the view: each write that
        # httpd forwards drops the views of its DC before it is answered.
        for i in range(15):
            self.register(s1, "mine-%d" % i, "?dc=dc2")
            self.assertIn("mine-%d" % i, node_names(s1, "?dc=dc2")[2])
            self.register(c1, "local-%d" % i)          # client agent: local DC
            self.assertIn("local-%d" % i, node_names(c1)[2])

        # A write made in dc2 itself reaches dc1's view (its watch wakes).
        _, before, _ = node_names(s1, "?dc=dc2")
        self.register(s2, "elsewhere")
        self.wait_for(lambda: "elsewhere" in node_names(s1, "?dc=dc2")[2], timeout=5,
                      what="dc1's view of dc2 to show a write made in dc2")
        self.assertGreater(node_names(s1, "?dc=dc2")[1], before)

        # The view answers while dc2's catalogd cannot; a read dc1 never
        # made, and ?consistent, must ask dc2 and so do not answer.
        st, _, seen = node_names(s1, "?dc=dc2")
        catalogd = child_pid(s2, "catalogd")
        self.assertIsNotNone(catalogd)
        os.kill(catalogd, signal.SIGSTOP)
        try:
            st, _, names = node_names(s1, "?dc=dc2")
            self.assertEqual((st, names), (200, seen))
            for path in ("/v1/catalog/services?dc=dc2", "/v1/catalog/nodes?dc=dc2&consistent"):
                st, _, _ = try_http_json("GET", s1.url(path), timeout=1.5)
                self.assertIsNone(st, "%s answered without dc2's catalogd" % path)
        finally:
            os.kill(catalogd, signal.SIGCONT)
        self.wait_for(lambda: try_http_json("GET", s1.url("/v1/catalog/services?dc=dc2"),
                                            timeout=5)[0] == 200,
                      timeout=15, what="dc2 answering again")

        # dc2 goes away: the view must not hide it.
        s2.proc.kill9()
        def fails():
            st, _, body = http("GET", s1.url("/v1/catalog/nodes?dc=dc2"), timeout=5)
            return st == 500 and body
        body = self.wait_for(fails, timeout=10, what="?dc=dc2 to fail once dc2 is gone")
        self.assertTrue(body.decode().startswith(("Remote DC has no server currently reachable",
                                                  "No path to datacenter",
                                                  "rpc error making call: ")), body)
        # dc1 itself is unaffected.
        self.assertEqual(node_names(s1)[0], 200)
        for a in (c1, s1):
            a.proc.stop()
