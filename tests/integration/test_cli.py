"""The `meridian` command (docs/cli.md) against real agents on 127.0.2.x:
the client commands (version, catalog, services, members, join, keygen)
and their errors; and `meridian agent` as a supervisor: a daemon killed
with kill -9 is restarted, SIGHUP is survived, SIGTERM stops every child
and exits 0, -t validates, a missing daemon binary is a start-up error,
and -dev without -data-dir removes its temporary dir at exit."""

import base64
import http.client as httplib
import json
import os
import re
import shutil
import signal
import subprocess

from tests.integration import harness

MERIDIAN = os.path.join(harness.BIN, "meridian")
DAEMONS = ("catalogd", "gossipd", "forwarderd", "httpd")


def get_json(host, port, path, timeout=3):
    """(status, decoded body) of one GET, or (None, None) when nobody
    answers. (Own helper: the harness' http() shadows its http module.)"""
    conn = httplib.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        data = resp.read()
        try:
            return resp.status, json.loads(data) if data else None
        except ValueError:
            return resp.status, None
    except (OSError, httplib.HTTPException):
        return None, None
    finally:
        conn.close()


def leader_known(ip, port=8500):
    status, leader = get_json(ip, port, "/v1/status/leader")
    return status == 200 and bool(leader)


def child_pids(pid):
    """{name: pid} of the direct children of pid."""
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    pids = {}
    for line in out.splitlines():
        child, name = line.split(None, 1)
        pids[name.strip()] = int(child)
    return pids


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class CliTest(harness.TestCase):

    def setUp(self):
        super().setUp()
        missing = [d for d in ("meridian",) + DAEMONS
                   if not os.access(os.path.join(harness.BIN, d), os.X_OK)]
        if missing:
            self.fail("programs missing from %s: %s (build first: make)"
                      % (harness.BIN, ", ".join(missing)))

    def agent(self, ip, args):
        """A started agent whose HTTP API answers with a leader."""
        a = self.start_agent(ip, args, wait=False)

        def ready():
            if not a.proc.alive():
                self.fail("agent on %s exited early:\n%s" % (ip, a.proc.log_text()[-4000:]))
            return leader_known(ip)
        self.wait_for(ready, timeout=30, what="agent on %s to answer with a leader" % ip)
        return a

    def cli(self, *args, agent=None, env=None, timeout=30):
        """Runs meridian with args (-http-addr of agent appended after the
        subcommand words when given). Returns (exit code, stdout, stderr)."""
        argv = [MERIDIAN] + list(args)
        if agent is not None:
            words = 2 if args[0] in ("catalog", "services") else 1
            argv = [MERIDIAN] + list(args[:words]) + \
                ["-http-addr", agent.http_addr] + list(args[words:])
        full_env = dict(os.environ)
        for key in ("MERIDIAN_HTTP_ADDR", "CONSUL_HTTP_ADDR",
                    "MERIDIAN_HTTP_TOKEN", "CONSUL_HTTP_TOKEN"):
            full_env.pop(key, None)
        full_env.update(env or {})
        done = subprocess.run(argv, capture_output=True, text=True,
                              env=full_env, timeout=timeout)
        return done.returncode, done.stdout, done.stderr

    def assert_cli(self, *args, agent=None, env=None, code=0):
        rc, out, err = self.cli(*args, agent=agent, env=env)
        self.assertEqual(rc, code, "meridian %s: exit %d\nstdout: %s\nstderr: %s"
                         % (" ".join(args), rc, out, err))
        return out, err

    # ---------------------------------------------------------------- client

    def test_local_commands(self):
        out, _ = self.assert_cli("version")
        self.assertRegex(out, r"^Meridian v\d+\.\d+\.\d+\n")
        self.assertIn("Protocol 2 spoken by default", out)
        out, _ = self.assert_cli("--version")
        self.assertTrue(out.startswith("Meridian v"))
        info = json.loads(self.assert_cli("version", "-format=json")[0])
        self.assertEqual(info["RPC"]["Default"], 2)
        key = self.assert_cli("keygen")[0].strip()
        self.assertEqual(len(base64.b64decode(key, validate=True)), 32)
        self.assertNotEqual(key, self.assert_cli("keygen")[0].strip())
        # no command: the list on stderr, exit 1; -h: on stdout, exit 0
        rc, out, err = self.cli()
        self.assertEqual(rc, 1)
        for name in ("agent", "catalog", "members", "services", "join",
                     "leave", "force-leave", "keygen", "keyring", "version"):
            self.assertIn("    " + name, err)
        out, _ = self.assert_cli("-h")
        self.assertIn("Available commands are:", out)
        _, err = self.assert_cli("nope", code=1)
        self.assertIn("Unknown command: nope", err)
        _, err = self.assert_cli("catalog", "nodes", "-bogus", code=1)
        self.assertIn("flag provided but not defined: -bogus", err)
        out, _ = self.assert_cli("catalog", "nodes", "-h")
        self.assertIn("-service", out)
        # nothing listens: a clear connection error, exit 1
        _, err = self.assert_cli("catalog", "datacenters", "-http-addr",
                                 "127.0.2.99:1", code=1)
        self.assertIn("Error listing datacenters: Get \"http://127.0.2.99:1/"
                      "v1/catalog/datacenters\": dial tcp 127.0.2.99:1: "
                      "connect: connection refused", err)
        _, err = self.assert_cli("catalog", "nodes", "-http-addr",
                                 "https://127.0.2.99", code=1)
        self.assertIn("Error connecting to Meridian agent", err)
        # bad local input is refused before any request
        _, err = self.assert_cli("members", "-status=(", "-http-addr",
                                 "127.0.2.99:1", code=1)
        self.assertIn("Failed to compile status regexp", err)
        _, err = self.assert_cli("keyring", "-install=not-a-key",
                                 "-http-addr", "127.0.2.99:1", code=1)
        self.assertIn("invalid key", err)
        _, err = self.assert_cli("keyring", "-list", "-use=" + key, code=1)
        self.assertIn("Only a single action is allowed", err)

    def test_catalog_and_services(self):
        a = self.agent("127.0.2.10", ["-dev", "-node", "cli1"])
        out, _ = self.assert_cli("catalog", "datacenters", agent=a)
        self.assertEqual(out, "dc1\n")
        # the address from the environment, with the optional http:// prefix
        for env in ({"MERIDIAN_HTTP_ADDR": "http://" + a.http_addr},
                    {"CONSUL_HTTP_ADDR": a.http_addr}):
            out, _ = self.assert_cli("catalog", "datacenters", env=env)
            self.assertEqual(out, "dc1\n")

        def node_listed():
            rc, out, _ = self.cli("catalog", "nodes", agent=a)
            return rc == 0 and re.search(
                r"^cli1\s+[0-9a-f]{8}\s+127\.0\.2\.10\s+dc1$", out, re.M)
        self.wait_for(node_listed, timeout=20, what="cli1 in catalog nodes")
        out, _ = self.assert_cli("catalog", "nodes", agent=a)
        self.assertEqual(out.splitlines()[0].split(), ["Node", "ID", "Address", "DC"])
        out, _ = self.assert_cli("catalog", "nodes", "-detailed", agent=a)
        self.assertEqual(out.splitlines()[0].split(),
                         ["Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"])
        self.assertRegex(out, r"cli1\s+[0-9a-f]{8}-[0-9a-f]{4}-")

        # register from flags
        out, _ = self.assert_cli("services", "register", "-name=web", "-port=80",
                                 "-tag=v1", "-tag=v2", "-meta=team=a", agent=a)
        self.assertEqual(out, "Registered service: web\n")
        st, services = get_json(a.ip, 8500, "/v1/agent/services")
        self.assertEqual(st, 200)
        self.assertEqual(services["web"]["Port"], 80)
        self.assertEqual(sorted(services["web"]["Tags"]), ["v1", "v2"])
        self.assertEqual(services["web"]["Meta"], {"team": "a"})
        # register from a Consul config file (snake_case keys)
        d = self.tmpdir()
        path = os.path.join(d, "db.json")
        with open(path, "w") as f:
            json.dump({"service": {"name": "db", "id": "db-1", "port": 5432,
                                   "tags": ["primary"]}}, f)
        out, _ = self.assert_cli("services", "register", path, agent=a)
        self.assertEqual(out, "Registered service: db\n")

        def synced():
            rc, out, _ = self.cli("catalog", "services", "-tags", agent=a)
            return rc == 0 and re.search(r"^web\s+v1,v2$", out, re.M) \
                and re.search(r"^db\s+primary$", out, re.M)
        self.wait_for(synced, timeout=20, what="web and db in catalog services")
        out, _ = self.assert_cli("catalog", "services", agent=a)
        self.assertIn("web\n", out)
        out, _ = self.assert_cli("catalog", "services", "-node=cli1", agent=a)
        self.assertIn("db\n", out)
        out, _ = self.assert_cli("catalog", "nodes", "-service=web", agent=a)
        self.assertRegex(out, r"(?m)^cli1\s+")
        _, err = self.assert_cli("catalog", "nodes", "-service=nothing", agent=a)
        self.assertIn("No nodes match the given query", err)
        _, err = self.assert_cli("catalog", "services", "-node=nobody", agent=a)
        self.assertIn("No services match the given query", err)

        # deregister by -id and from the file
        out, _ = self.assert_cli("services", "deregister", "-id=web", agent=a)
        self.assertEqual(out, "Deregistered service: web\n")
        out, _ = self.assert_cli("services", "deregister", path, agent=a)
        self.assertEqual(out, "Deregistered service: db-1\n")
        st, services = get_json(a.ip, 8500, "/v1/agent/services")
        self.assertNotIn("web", services)
        self.assertNotIn("db-1", services)
        self.wait_for(lambda: "web" not in self.cli("catalog", "services", agent=a)[1],
                      timeout=20, what="web gone from the catalog")

        # usage errors change nothing
        _, err = self.assert_cli("services", "register", agent=a, code=1)
        self.assertIn("requires at least one argument", err)
        _, err = self.assert_cli("services", "register", "-name=x", path,
                                 agent=a, code=1)
        self.assertIn("not both", err)
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            f.write("{not json")
        _, err = self.assert_cli("services", "register", bad, agent=a, code=1)
        self.assertIn("bad.json: invalid JSON", err)
        st, services = get_json(a.ip, 8500, "/v1/agent/services")
        self.assertNotIn("x", services)

        # an HTTP error is shown as Consul shows it
        _, err = self.assert_cli("catalog", "nodes", "-datacenter=nowhere",
                                 agent=a, code=1)
        self.assertRegex(err, r"^Error listing nodes: Unexpected response code: "
                              r"\d{3} \(.+\)\n$")

    def test_members_and_join(self):
        a = self.agent("127.0.2.14", ["-dev", "-node", "cli4"])
        # join of an address where nobody answers fails as a whole
        _, err = self.assert_cli("join", "127.0.2.98", agent=a, code=1)
        self.assertIn("Error joining address '127.0.2.98'", err)
        self.assertIn("Failed to join any nodes.", err)
        # members: the agent's own node, alive, a server
        rc, out, err = self.cli("members", agent=a)
        if rc == 1 and "Unexpected response code: 404" in err:
            self.skipTest("GET /v1/agent/members is not served by httpd yet")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines()[0].split(),
                         ["Node", "Address", "Status", "Type", "Build",
                          "Protocol", "DC", "Segment"])
        self.assertRegex(out, r"(?m)^cli4\s+127\.0\.2\.14:8301\s+alive\s+server\s+")
        out, _ = self.assert_cli("members", "-detailed", agent=a)
        self.assertRegex(out, r"(?m)^cli4\s+127\.0\.2\.14:8301\s+alive\s+\S*role=consul")
        self.assert_cli("members", "-status=^failed$", agent=a, code=2)
        out, _ = self.assert_cli("members", "-wan", agent=a)
        self.assertRegex(out, r"(?m)^cli4\.dc1\s+127\.0\.2\.14:8302\s+alive\s+server\s+")

    def test_leave_stops_the_agent(self):
        server = self.agent("127.0.2.15", ["-dev", "-node", "leave-s"])
        client = self.agent("127.0.2.16", ["-node", "leave-c", "-retry-join", "127.0.2.15"])
        out, _ = self.assert_cli("leave", agent=client)
        self.assertEqual(out.strip(), "Graceful leave complete")
        # Like Consul's, the agent exits once it left (0: a clean stop) ...
        self.wait_for(lambda: not client.proc.alive(), timeout=20,
                      what="the agent to exit after leave")
        self.assertEqual(client.proc.popen.returncode, 0)
        # ... and the others list it as left, not failed.
        def status():
            rc, out, _ = self.cli("members", agent=server)
            rows = [l.split() for l in out.splitlines()[1:]]
            return rc == 0 and [r[2] for r in rows if r[0] == "leave-c"]
        self.wait_for(lambda: status() == ["left"], timeout=10,
                      what="leave-c listed as left")
        server.proc.stop()

    # ---------------------------------------------------------------- agent

    def test_agent_restarts_killed_daemon(self):
        a = self.agent("127.0.2.11", ["-dev"])
        pids = child_pids(a.proc.pid)
        self.assertEqual(sorted(pids), sorted(DAEMONS))
        # the effective config handed to the daemons
        with open(os.path.join(a.data_dir, "run", "agent.json")) as f:
            cfg = json.load(f)
        self.assertEqual((cfg["bind_addr"], cfg["client_addr"], cfg["data_dir"]),
                         ("127.0.2.11", "127.0.2.11", a.data_dir))
        self.assertEqual(os.stat(os.path.join(a.data_dir, "run")).st_mode & 0o777, 0o700)
        old = pids["httpd"]
        os.kill(old, signal.SIGKILL)
        self.wait_for(lambda: child_pids(a.proc.pid).get("httpd") not in (None, old),
                      timeout=15, what="httpd restarted")
        self.wait_for(lambda: get_json(a.ip, 8500, "/v1/status/leader")[0] == 200,
                      timeout=20, what="httpd answering again")
        self.wait_for(lambda: re.search(r"daemon exited name=httpd pid=%d "
                                        r"signal=SIGKILL" % old, a.proc.log_text()),
                      what="the exit logged")
        # SIGHUP is forwarded; every daemon survives it
        before = child_pids(a.proc.pid)
        a.proc.signal(signal.SIGHUP)
        self.wait_for(lambda: "forwarding SIGHUP" in a.proc.log_text(),
                      what="SIGHUP forwarded")
        self.wait_for(lambda: get_json(a.ip, 8500, "/v1/status/leader")[0] == 200,
                      what="HTTP after SIGHUP")
        self.assertEqual(child_pids(a.proc.pid), before)
        # SIGTERM stops every child and the agent exits 0
        a.proc.stop()
        for name, pid in before.items():
            self.assertFalse(alive(pid), "%s (pid %d) survived the agent" % (name, pid))
        self.assertIn("all daemons stopped", a.proc.log_text())
        self.assertTrue(os.path.isdir(a.data_dir))      # given -data-dir: kept

    def test_dev_temp_dir_removed_at_exit(self):
        ip = "127.0.2.12"
        p = self.spawn([MERIDIAN, "agent", "-dev", "-bind", ip, "-client", ip],
                       name="agent-dev")
        m = self.wait_for(lambda: re.search(r"Data Dir: '(/tmp/meridian-dev-[^']+)' "
                                            r"\(temporary", p.log_text()),
                          what="the banner")
        data_dir = m.group(1)
        self._dirs.append(data_dir)             # removed by tearDown on failure
        self.assertIn("==> Meridian agent running!", p.log_text())
        self.wait_for(lambda: leader_known(ip), timeout=30, what="dev agent answering")
        self.assertTrue(os.path.isfile(os.path.join(data_dir, "run", "agent.json")))
        children = child_pids(p.pid)
        p.stop()
        self.assertFalse(os.path.exists(data_dir), "temporary data dir left behind")
        for pid in children.values():
            self.assertFalse(alive(pid))

    def test_validate_only(self):
        d = self.tmpdir()
        good = os.path.join(d, "good.json")
        with open(good, "w") as f:
            json.dump({"datacenter": "east", "server": True, "data_dir": d}, f)
        out, _ = self.assert_cli("agent", "-t", "-config-file", good)
        self.assertIn("Configuration is valid!", out)
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            json.dump({"datacenter": "east", "ports": {"http": "eighty"}}, f)
        rc, out, err = self.cli("agent", "-t", "-config-file", bad)
        self.assertEqual(rc, 1)
        self.assertIn("bad.json: ports.http", err)
        rc, out, err = self.cli("agent", "-t", "-dev", "-http-port", "0")
        self.assertEqual(rc, 1)
        self.assertIn("http-port", err)
        rc, out, err = self.cli("agent", "-t", "-dev")
        self.assertEqual(rc, 0)
        # -t creates nothing: no node-id, no run dir
        self.assertEqual(sorted(os.listdir(d)), ["bad.json", "good.json"])

    def test_missing_daemon_is_a_startup_error(self):
        # a bin dir with meridian and all daemons but gossipd
        d = self.tmpdir()
        shutil.copy(MERIDIAN, os.path.join(d, "meridian"))
        for name in DAEMONS:
            if name != "gossipd":
                os.symlink(os.path.join(harness.BIN, name), os.path.join(d, name))
        data = self.tmpdir()
        p = self.spawn([os.path.join(d, "meridian"), "agent", "-dev",
                        "-bind", "127.0.2.13", "-client", "127.0.2.13",
                        "-data-dir", data], name="agent-missing")
        self.assertEqual(p.wait_exit(20), 1)
        self.assertRegex(p.log_text(), r"Error starting agent: daemon gossipd: "
                                       r"cannot run .*/gossipd")
        self.assertNotIn("agent running", p.log_text())
