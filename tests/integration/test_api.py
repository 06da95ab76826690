"""The Foundation issue end to end: a dev agent's HTTP API used as a Consul
client would (catalog, health, agent endpoints, blocking queries, TTL
checks), bad input, keep-alive, and the crash/restart guarantees:
kill -9 of catalogd loses no acknowledged write, httpd restarts alone."""

import http.client as httpclient
import json
import os
import signal
import subprocess
import threading
import time

from tests.integration import harness
from tests.integration.harness import http, http_json


def child_pid(agent, name):
    """PID of the agent's child daemon `name`, or None."""
    out = subprocess.run(["pgrep", "-P", str(agent.proc.pid), "-x", name],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def register_web(agent, node, port=80, status="passing", tags=("v1",)):
    body = {"Node": node, "Address": "10.0.0.%d" % (port % 250),
            "Service": {"Service": "web", "Port": port, "Tags": list(tags)},
            "Check": {"CheckID": "web:" + node, "Name": "web alive",
                      "Status": status, "ServiceID": "web"}}
    st, hdrs, obj = http_json("PUT", agent.url("/v1/catalog/register"), body)
    assert st == 200 and obj is True, (st, obj)
    return int(hdrs["x-consul-index"]) if "x-consul-index" in hdrs else None


class ApiTest(harness.TestCase):
    IP = "127.0.1.10"

    def setUp(self):
        super().setUp()
        self.agent = self.start_agent(self.IP, ["-dev", "-node", "dev1"])
        # start-up writes are done once gossip has put serfHealth in place
        self.wait_for(lambda: [c for c in http_json("GET", self.agent.url(
            "/v1/health/node/dev1"))[2] if c["CheckID"] == "serfHealth"
            and c["Status"] == "passing"], what="serfHealth of the agent's node")

    def test_catalog_and_health(self):
        a = self.agent
        st, hdrs, dcs = http_json("GET", a.url("/v1/catalog/datacenters"))
        self.assertEqual((st, dcs), (200, ["dc1"]))
        # the agent's own node is synced into the catalog
        self.wait_for(lambda: any(n["Node"] == "dev1" for n in
                                  http_json("GET", a.url("/v1/catalog/nodes"))[2]),
                      what="own node in catalog")
        st, hdrs, body = http("GET", a.url("/v1/catalog/service/nothing"))
        self.assertEqual((st, body), (200, b"[]"))
        self.assertEqual(hdrs["content-type"], "application/json")
        self.assertGreaterEqual(int(hdrs["x-consul-index"]), 1)
        self.assertEqual(hdrs["x-consul-knownleader"], "true")
        self.assertIn("x-consul-lastcontact", hdrs)

        register_web(a, "n1", 80)
        register_web(a, "n2", 81, status="critical", tags=("v2",))
        st, hdrs, svc = http_json("GET", a.url("/v1/catalog/service/web"))
        self.assertEqual(st, 200)
        self.assertEqual(sorted(s["Node"] for s in svc), ["n1", "n2"])
        s = [s for s in svc if s["Node"] == "n1"][0]
        for key in ("ID", "Node", "Address", "Datacenter", "TaggedAddresses", "NodeMeta",
                    "ServiceID", "ServiceName", "ServiceTags", "ServicePort",
                    "ServiceAddress", "ServiceWeights", "ServiceMeta",
                    "CreateIndex", "ModifyIndex"):
            self.assertIn(key, s)
        self.assertEqual((s["ServiceID"], s["ServicePort"], s["Datacenter"]), ("web", 80, "dc1"))
        self.assertEqual(s["ServiceWeights"], {"Passing": 1, "Warning": 1})
        st, _, svc = http_json("GET", a.url("/v1/catalog/service/web?tag=v2"))
        self.assertEqual([s["Node"] for s in svc], ["n2"])
        st, _, services = http_json("GET", a.url("/v1/catalog/services"))
        self.assertEqual(sorted(services["web"]), ["v1", "v2"])
        st, _, node = http_json("GET", a.url("/v1/catalog/node/n1"))
        self.assertEqual(node["Node"]["Node"], "n1")
        self.assertIn("web", node["Services"])
        st, _, health = http_json("GET", a.url("/v1/health/service/web"))
        self.assertEqual(len(health), 2)
        self.assertEqual(set(health[0]), {"Node", "Service", "Checks"})
        st, _, passing = http_json("GET", a.url("/v1/health/service/web?passing"))
        self.assertEqual([e["Node"]["Node"] for e in passing], ["n1"])
        st, _, crit = http_json("GET", a.url("/v1/health/state/critical"))
        self.assertIn("web:n2", [c["CheckID"] for c in crit])
        st, _, checks = http_json("GET", a.url("/v1/health/checks/web"))
        self.assertEqual(len(checks), 2)
        st, _, nchecks = http_json("GET", a.url("/v1/health/node/n1"))
        self.assertEqual([c["CheckID"] for c in nchecks], ["web:n1"])
        st, _, body = http("GET", a.url("/v1/health/node/nobody"))
        self.assertEqual(body, b"[]")
        # deregistering a node removes its services and checks
        st, _, ok = http_json("PUT", a.url("/v1/catalog/deregister"), {"Node": "n2"})
        self.assertEqual((st, ok), (200, True))
        st, _, svc = http_json("GET", a.url("/v1/catalog/service/web"))
        self.assertEqual([s["Node"] for s in svc], ["n1"])
        st, _, crit = http_json("GET", a.url("/v1/health/state/critical"))
        self.assertNotIn("web:n2", [c["CheckID"] for c in crit])
        # ?pretty indents with a trailing newline
        st, _, body = http("GET", a.url("/v1/catalog/services?pretty"))
        self.assertTrue(body.endswith(b"\n") and b"\n    " in body, body)
        # status
        st, _, leader = http_json("GET", a.url("/v1/status/leader"))
        self.assertRegex(leader, r"^127\.0\.1\.10:8300$")
        st, _, peers = http_json("GET", a.url("/v1/status/peers"))
        self.assertEqual(peers, [leader])

    def test_bad_input(self):
        a = self.agent
        st, _, body = http("PUT", a.url("/v1/catalog/register"), b"{not json")
        self.assertEqual(st, 400)
        self.assertIn(b"Request decode failed", body)
        st, _, body = http("PUT", a.url("/v1/catalog/register"), {"Address": "1.2.3.4"})
        self.assertEqual(st, 400, body)
        st, _, _ = http("GET", a.url("/v1/catalog/nosuch"))
        self.assertEqual(st, 404)
        st, hdrs, _ = http("DELETE", a.url("/v1/catalog/nodes"))
        self.assertEqual(st, 405)
        self.assertIn("GET", hdrs.get("allow", ""))
        st, _, _ = http("PUT", a.url("/v1/catalog/register"), b"[" + b"1," * 300000 + b"1]")
        self.assertEqual(st, 413)
        st, _, body = http("GET", a.url("/v1/catalog/nodes?dc=nowhere"))
        self.assertEqual((st, body), (500, b"No path to datacenter"))
        st, _, body = http("GET", a.url("/v1/catalog/nodes?stale&consistent"))
        self.assertEqual(st, 400)
        self.assertIn(b"Cannot specify ?stale with ?consistent", body)
        st, _, body = http("GET", a.url("/v1/catalog/nodes?index=1&wait=forever"))
        self.assertEqual((st, body), (400, b"Invalid wait time"))
        st, _, body = http("GET", a.url("/v1/catalog/nodes?index=abc"))
        self.assertEqual((st, body), (400, b"Invalid index"))
        # nothing was partly applied: no node without a name appeared
        st, _, nodes = http_json("GET", a.url("/v1/catalog/nodes"))
        self.assertTrue(all(n["Node"] for n in nodes))

    def test_keep_alive(self):
        conn = httpclient.HTTPConnection(self.IP, 8500, timeout=10)
        for _ in range(3):
            conn.request("GET", "/v1/catalog/nodes")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
            self.assertNotEqual(resp.getheader("Connection", "").lower(), "close")
        sock = conn.sock
        conn.request("GET", "/v1/status/leader")
        conn.getresponse().read()
        self.assertIs(conn.sock, sock, "connection was not reused")
        conn.close()

    def test_blocking_query(self):
        a = self.agent
        index = register_web(a, "b1", 90)
        st, hdrs, _ = http_json("GET", a.url("/v1/catalog/service/web"))
        index = int(hdrs["x-consul-index"])
        # index=0 never blocks; an expired wait returns the same index
        t0 = time.monotonic()
        http_json("GET", a.url("/v1/catalog/service/web?index=0&wait=10s"))
        self.assertLess(time.monotonic() - t0, 5)
        t0 = time.monotonic()
        st, hdrs, _ = http_json("GET", a.url("/v1/catalog/service/web?index=%d&wait=1s" % index))
        elapsed = time.monotonic() - t0
        self.assertEqual(int(hdrs["x-consul-index"]), index)
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 1.0 + 1.0 / 16 + 2)
        # a waiting query wakes on a write to its table
        result = {}

        def wait():
            t = time.monotonic()
            result["resp"] = http_json(
                "GET", a.url("/v1/catalog/service/web?index=%d&wait=60s" % index), timeout=90)
            result["elapsed"] = time.monotonic() - t

        th = threading.Thread(target=wait)
        th.start()
        time.sleep(0.5)     # let the query park (not synchronisation of the result)
        self.assertTrue(th.is_alive(), "blocking query returned before any write")
        register_web(a, "b2", 91)
        th.join(30)
        self.assertFalse(th.is_alive())
        st, hdrs, svc = result["resp"]
        self.assertGreater(int(hdrs["x-consul-index"]), index)
        self.assertIn("b2", [s["Node"] for s in svc])
        self.assertLess(result["elapsed"], 30)

    def test_agent_services_and_ttl(self):
        a = self.agent
        svc = {"Name": "api", "Port": 9000, "Tags": ["x"],
               "Check": {"TTL": "2s"}}
        st, _, _ = http("PUT", a.url("/v1/agent/service/register"), svc)
        self.assertEqual(st, 200)
        st, _, services = http_json("GET", a.url("/v1/agent/services"))
        self.assertEqual(services["api"]["Service"], "api")
        self.assertEqual(services["api"]["ID"], "api")
        st, _, checks = http_json("GET", a.url("/v1/agent/checks"))
        self.assertIn("service:api", checks)
        # anti-entropy puts it in the catalog
        self.wait_for(lambda: http_json("GET", a.url("/v1/catalog/service/api"))[2],
                      what="agent service synced to catalog")
        st, _, _ = http("PUT", a.url("/v1/agent/check/pass/service:api?note=ok"))
        self.assertEqual(st, 200)
        self.wait_for(lambda: [c for c in http_json("GET", a.url("/v1/health/checks/api"))[2]
                               if c["Status"] == "passing" and c["Output"] == "ok"],
                      what="check passing in catalog")
        # the TTL runs out: critical with "TTL expired"
        self.wait_for(lambda: [c for c in http_json("GET", a.url("/v1/health/checks/api"))[2]
                               if c["Status"] == "critical" and "TTL expired" in c["Output"]],
                      timeout=15, what="TTL expiry")
        st, _, body = http("PUT", a.url("/v1/agent/check/pass/nosuch"))
        self.assertEqual(st, 500)
        self.assertIn(b'CheckID "nosuch" does not have associated TTL', body)
        st, _, _ = http("PUT", a.url("/v1/agent/service/deregister/api"))
        self.assertEqual(st, 200)
        self.wait_for(lambda: http_json("GET", a.url("/v1/catalog/service/api"))[2] == [],
                      what="deregistered service leaves the catalog")

    def test_kill9_catalogd_loses_nothing(self):
        a = self.agent
        acked = []
        for i in range(30):
            register_web(a, "k%d" % i, 100 + i)
            acked.append("k%d" % i)
        st, hdrs, _ = http_json("GET", a.url("/v1/catalog/nodes"))
        before = int(hdrs["x-consul-index"])
        pid = self.wait_for(lambda: child_pid(a, "catalogd"), what="catalogd pid")
        os.kill(pid, signal.SIGKILL)
        # while it is down the API answers an error, never hangs
        st, _, _ = harness.try_http_json("GET", a.url("/v1/catalog/nodes"), timeout=10)
        self.assertIn(st, (200, 500, 503))
        self.wait_for(lambda: child_pid(a, "catalogd") not in (None, pid),
                      timeout=20, what="agent restarts catalogd")

        def all_back():
            st, hdrs, nodes = harness.try_http_json("GET", a.url("/v1/catalog/nodes"))
            if st != 200:
                return False
            names = {n["Node"] for n in nodes}
            return set(acked) <= names and int(hdrs["x-consul-index"]) >= before

        self.wait_for(all_back, timeout=30, what="acknowledged writes after kill -9")
        idx = register_web(a, "after", 7)
        self.assertGreater(idx, before)

    def test_httpd_restart_alone(self):
        a = self.agent
        register_web(a, "h1", 5)
        http("PUT", a.url("/v1/agent/service/register"), {"Name": "kept", "Port": 1})
        catalogd = child_pid(a, "catalogd")
        pid = self.wait_for(lambda: child_pid(a, "httpd"), what="httpd pid")
        os.kill(pid, signal.SIGKILL)
        self.wait_for(lambda: harness.try_http_json("GET", a.url("/v1/catalog/node/h1"))[0] == 200,
                      timeout=20, what="httpd back")
        self.assertEqual(child_pid(a, "catalogd"), catalogd, "catalogd was restarted too")
        st, _, services = http_json("GET", a.url("/v1/agent/services"))
        self.assertIn("kept", services)

    def tearDown(self):
        try:
            self.agent.proc.stop()
        finally:
            super().tearDown()
