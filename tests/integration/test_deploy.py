"""Deployment (deploy/, docs/deployment.md): the systemd units pass
`systemd-analyze verify`; `make install` lays out a tree whose units name the
programs it installed; the docker-compose federation is valid and every node
has the daemons its role needs with one consistent config; the three
artefacts agree on the list of daemons; and one server node under a real
supervisord survives `kill -9` of each of its daemons in turn: supervisord
restarts it, the node serves again within a bound, HTTP answers an error
(never hangs) meanwhile, and no acknowledged write is lost.

Tools: systemd-analyze (systemd), docker-compose, supervisord (supervisor),
all installed by deploy/deps.sh. docker-compose's YAML output is read with
the Python that runs docker-compose (it ships PyYAML); the tests themselves
use the standard library only."""

import configparser
import hashlib
import http.client as http_client
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
import urllib.parse
from http.client import HTTPException

from tests.integration import harness

TOP = harness.TOP
DEPLOY = os.path.join(TOP, "deploy")
SYSTEMD_DIR = os.path.join(DEPLOY, "systemd")
DOCKER_DIR = os.path.join(DEPLOY, "docker")
SUPERVISOR_CONF = os.path.join(DEPLOY, "supervisor", "meridian.conf")
CONFIG_PATH = "/etc/meridian/meridian.json"
DATA_DIR = "/var/lib/meridian"
DEFAULT_PREFIX = "/usr/local"

# Which nodes run each daemon, for every daemon Meridian has or plans
# (docs/architecture.md). The daemon list itself is read from the artefacts.
ROLE = {"catalogd": "server", "gossipd": "all", "httpd": "all",
        "forwarderd": "all", "replicatord": "server", "cad": "server"}
REQUIRED = {"catalogd", "gossipd", "httpd"}

NEEDS_TOOL = "%s not found: it is installed by deploy/deps.sh (run `make deps`)"


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError(NEEDS_TOOL % name)
    return path


def need_binaries(testcase, names):
    missing = [n for n in names if not os.access(os.path.join(harness.BIN, n), os.X_OK)]
    if missing:
        testcase.fail("programs missing from %s: %s (build first: make)"
                      % (harness.BIN, ", ".join(missing)))


def read_unit(path):
    """A systemd unit as {section: [(key, value), ...]} (keys may repeat)."""
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
                continue
            key, _, value = line.partition("=")
            current.append((key.strip(), value.strip()))
    return sections


def unit_values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def unit_daemons():
    """Daemon names that have a unit in deploy/systemd (sorted)."""
    names = []
    for f in sorted(os.listdir(SYSTEMD_DIR)):
        m = re.fullmatch(r"meridian-([a-z0-9]+)\.service", f)
        if m:
            names.append(m.group(1))
    return names


def supervisor_programs(path=SUPERVISOR_CONF):
    parser = configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    return {s.split(":", 1)[1]: dict(parser.items(s))
            for s in parser.sections() if s.startswith("program:")}


def systemd_verify(testcase, unit_paths):
    """Runs systemd-analyze verify; any message (even a warning) fails."""
    out = subprocess.run([tool("systemd-analyze"), "verify"] + list(unit_paths),
                         capture_output=True, text=True, timeout=60)
    text = (out.stdout + out.stderr).strip()
    testcase.assertEqual(out.returncode, 0, "systemd-analyze verify failed:\n" + text)
    testcase.assertEqual(text, "", "systemd-analyze verify warned:\n" + text)


def tree_digest(root):
    """{relative path: (mode, sha256 or None for a directory)}."""
    result = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(base, name)
            st = os.lstat(path)
            digest = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            result[os.path.relpath(path, root)] = (stat.S_IMODE(st.st_mode), digest)
    return result


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


# harness.http() cannot be used: its module-level function `http` shadows
# the `http` package it calls (http.client), so every call raises
# AttributeError. These two do the same with http.client imported apart.
def http(method, url, body=None, timeout=10):
    """One request on a fresh connection: (status, headers, bytes)."""
    parts = urllib.parse.urlsplit(url)
    conn = http_client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    try:
        conn.request(method, parts.path + ("?" + parts.query if parts.query else ""),
                     body=body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def http_json(method, url, body=None, timeout=10):
    status, hdrs, data = http(method, url, body, timeout)
    try:
        return status, hdrs, json.loads(data) if data else None
    except ValueError:
        return status, hdrs, None


def try_http_json(method, url, body=None, timeout=2):
    """http_json, or (None, {}, None) when the node does not answer."""
    try:
        return http_json(method, url, body, timeout=timeout)
    except (OSError, HTTPException):
        return None, {}, None


class ArtefactTest(harness.TestCase):
    """Static checks of deploy/ and the systemd units under systemd-analyze."""

    def test_units_shape(self):
        daemons = unit_daemons()
        self.assertTrue(REQUIRED <= set(daemons), daemons)
        for daemon in daemons:
            self.assertIn(daemon, ROLE, "unknown daemon %s" % daemon)
            unit = read_unit(os.path.join(SYSTEMD_DIR, "meridian-%s.service" % daemon))
            service = dict(unit["Service"])
            self.assertEqual(service["ExecStart"], "%s/bin/%s -config-file %s"
                             % (DEFAULT_PREFIX, daemon, CONFIG_PATH))
            for key, value in [("User", "meridian"), ("Restart", "on-failure"),
                               ("StateDirectory", "meridian"), ("KillSignal", "SIGTERM"),
                               ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                               ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                               ("CapabilityBoundingSet", ""),
                               ("ReadWritePaths", DATA_DIR)]:
                self.assertEqual(service.get(key), value, "%s: %s" % (daemon, key))
            self.assertIn("kill -HUP $MAINPID", service["ExecReload"])
            self.assertEqual(unit_values(unit, "Unit", "PartOf"), ["meridian.target"])
            self.assertEqual(unit_values(unit, "Install", "WantedBy"), ["meridian.target"])
        after = " ".join(unit_values(read_unit(os.path.join(
            SYSTEMD_DIR, "meridian-httpd.service")), "Unit", "After"))
        self.assertIn("meridian-catalogd.service", after.split())
        target = read_unit(os.path.join(SYSTEMD_DIR, "meridian.target"))
        self.assertEqual(unit_values(target, "Install", "WantedBy"), ["multi-user.target"])
        with open(os.path.join(SYSTEMD_DIR, "meridian.json.example"), encoding="utf-8") as f:
            example = json.load(f)
        self.assertEqual(example["data_dir"], DATA_DIR)

    def test_units_verify_with_real_binaries(self):
        """Each unit, with ExecStart pointed at the built program, passes
        systemd-analyze verify (no systemd PID 1 needed)."""
        daemons = unit_daemons()
        need_binaries(self, daemons)
        d = self.tmpdir()
        paths = []
        for f in ["meridian.target"] + ["meridian-%s.service" % n for n in daemons]:
            with open(os.path.join(SYSTEMD_DIR, f), encoding="utf-8") as src:
                text = src.read()
            text = text.replace(DEFAULT_PREFIX + "/bin/", harness.BIN + "/")
            with open(os.path.join(d, f), "w", encoding="utf-8") as dst:
                dst.write(text)
            paths.append(os.path.join(d, f))
        systemd_verify(self, paths)

    def test_supervisor_conf_shape(self):
        programs = supervisor_programs()
        self.assertEqual(sorted(programs), ["meridian-" + d for d in unit_daemons()])
        priorities = []
        for name, p in programs.items():
            daemon = name[len("meridian-"):]
            self.assertEqual(p["command"], "%s/bin/%s -config-file %s"
                             % (DEFAULT_PREFIX, daemon, CONFIG_PATH))
            self.assertEqual(p["autorestart"], "true")
            self.assertEqual(p["stopsignal"], "TERM")
            self.assertGreater(int(p["startretries"]), 0)
            self.assertEqual(p["redirect_stderr"], "true")
            self.assertTrue(p["stdout_logfile"].startswith("/var/log/meridian/"))
            priorities.append((int(p["priority"]), daemon))
        order = [d for _, d in sorted(priorities)]
        self.assertLess(order.index("catalogd"), order.index("httpd"))

    def test_dockerfile(self):
        with open(os.path.join(DOCKER_DIR, "Dockerfile"), encoding="utf-8") as f:
            text = f.read()
        stages = re.split(r"(?m)^FROM ", text)[1:]
        self.assertEqual(len(stages), 2, "multi-stage: build then runtime")
        build, runtime = stages
        self.assertRegex(build.splitlines()[0], r"^debian:bookworm\S* AS build$")
        self.assertRegex(runtime.splitlines()[0], r"^debian:bookworm")
        self.assertIn("make", build)
        self.assertRegex(runtime, r"COPY --from=build /src/bin/")
        users = re.findall(r"(?m)^USER (\S+)", runtime)
        self.assertTrue(users and users[-1] not in ("root", "0"), users)
        self.assertNotIn("-dev", runtime, "runtime stage installs no -dev package")
        # The build stage's -dev packages are deploy/deps.sh's.
        with open(os.path.join(DEPLOY, "deps.sh"), encoding="utf-8") as f:
            deps = f.read()
        pkgs = re.search(r'PKGS="([^"]*)"', deps).group(1).replace("\\\n", " ").split()
        self.assertEqual(set(re.findall(r"\b(lib[a-z0-9.+-]*-dev)\b", build)),
                         {p for p in pkgs if p.startswith("lib") and p.endswith("-dev")})
        # The runtime stage installs the package of every shared library a
        # program links against (libc6 comes with the base image).
        need_binaries(self, unit_daemons())
        programs = [os.path.join(harness.BIN, n) for n in unit_daemons()]
        runtime_pkgs = set(re.findall(r"\b(lib[a-z0-9.+-]+)\b", runtime))
        for program in programs:
            dyn = subprocess.run(["readelf", "-d", program], capture_output=True,
                                 text=True, check=True).stdout
            for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn):
                found = subprocess.run(["dpkg", "-S", "*/" + lib], capture_output=True,
                                       text=True).stdout
                owners = {line.split(":", 1)[0] for line in found.splitlines() if line}
                self.assertTrue(owners, "%s: no package ships %s" % (program, lib))
                if lib.startswith(("libasan", "libubsan")) or "libc6" in owners:
                    continue    # sanitizer builds; libc6 is in the base image
                self.assertTrue(owners & runtime_pkgs, "%s needs %s from %s, not in the "
                                "runtime stage" % (os.path.basename(program), lib, owners))

    def test_generated_compose_is_current(self):
        out = subprocess.run(["python3", os.path.join(DOCKER_DIR, "generate.py"), "--check"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)


def compose_config(testcase):
    """`docker-compose config` of the federation, parsed."""
    compose = tool("docker-compose")
    path = os.path.join(DOCKER_DIR, "docker-compose.yml")
    quiet = subprocess.run([compose, "-f", path, "config", "-q"], capture_output=True,
                           text=True, timeout=120)
    testcase.assertEqual(quiet.returncode, 0, quiet.stderr)
    full = subprocess.run([compose, "-f", path, "config"], capture_output=True,
                          text=True, timeout=120, check=True).stdout
    with open(compose, "rb") as f:
        shebang = f.readline().decode().strip()
    python = shebang[2:].split()[0] if shebang.startswith("#!") else "/usr/bin/python3"
    conv = subprocess.run([python, "-c", "import json, sys, yaml; "
                           "json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
                          input=full, capture_output=True, text=True, timeout=60)
    testcase.assertEqual(conv.returncode, 0, conv.stderr)
    return json.loads(conv.stdout)


class ComposeTest(harness.TestCase):
    def test_federation(self):
        cfg = compose_config(self)
        services = cfg["services"]
        daemons = unit_daemons()
        node_names = sorted(n for n in services if "network_mode" not in services[n])
        self.assertEqual(len(node_names), 8, node_names)
        nodes = {}
        for node in node_names:
            path = os.path.join(DOCKER_DIR, "config", node + ".json")
            with open(path, encoding="utf-8") as f:
                conf = json.load(f)
            ip = services[node]["networks"]["meridian"]["ipv4_address"]
            nodes[node] = (conf, ip)
            self.assertEqual(services[node].get("restart"), "on-failure", node)
        by_dc = {}
        for node, (conf, ip) in nodes.items():
            by_dc.setdefault(conf["datacenter"], []).append(node)
        self.assertEqual(sorted(by_dc), ["dc1", "dc2"])
        for dc, members in by_dc.items():
            servers = [n for n in members if nodes[n][0]["server"]]
            self.assertEqual((len(servers), len(members) - len(servers)), (3, 1), dc)

        for node, (conf, ip) in nodes.items():
            server = conf["server"]
            dc = conf["datacenter"]
            self.assertTrue(node.startswith(dc + "-"), node)
            self.assertEqual(conf["node_name"], node)
            self.assertEqual(conf["primary_datacenter"], "dc1")
            self.assertEqual(conf["data_dir"], DATA_DIR)
            self.assertEqual(conf["bind_addr"], ip)
            self.assertEqual(conf["advertise_addr"], ip)
            dc_servers = sorted(nodes[n][1] for n in by_dc[dc] if nodes[n][0]["server"])
            other = [d for d in by_dc if d != dc][0]
            other_servers = sorted(nodes[n][1] for n in by_dc[other] if nodes[n][0]["server"])
            self.assertEqual(sorted(conf["retry_join"]), [a for a in dc_servers if a != ip])
            if server:
                self.assertEqual(conf["bootstrap_expect"], 3)
                self.assertEqual(sorted(conf["retry_join_wan"]), other_servers)
            else:
                self.assertNotIn("bootstrap_expect", conf)
                self.assertNotIn("retry_join_wan", conf)

            wanted = {d for d in daemons if ROLE[d] == "all" or server}
            have = {n[len(node) + 1:] for n in services
                    if services[n].get("network_mode") == "service:" + node}
            self.assertEqual(have, wanted, node)
            for daemon in wanted:
                svc = services["%s-%s" % (node, daemon)]
                self.assertEqual(svc["command"], [daemon, "-config-file", CONFIG_PATH])
                self.assertEqual(svc["restart"], "on-failure")
                mounts = {}
                for v in svc["volumes"]:
                    if isinstance(v, str):
                        src, dst = v.split(":")[:2]
                    else:
                        src, dst = v["source"], v["target"]
                    mounts[dst] = src
                self.assertEqual(mounts.get(conf["data_dir"]), node + "-data", svc)
                self.assertEqual(os.path.realpath(mounts.get(CONFIG_PATH, "")),
                                 os.path.realpath(os.path.join(DOCKER_DIR, "config",
                                                               node + ".json")))
                self.assertIn(node, svc.get("depends_on", {}))
            health = services[node + "-httpd"]["healthcheck"]["test"]
            self.assertIn("curl -sf http://127.0.0.1:8500/v1/status/leader", " ".join(health))
        self.assertEqual(sorted(cfg["volumes"]), sorted(n + "-data" for n in nodes))

    def test_node_configs_load(self):
        """Every node config, and the example config, passes the validation
        (-t) of each daemon that the node runs."""
        daemons = unit_daemons()
        need_binaries(self, daemons)
        configs = [os.path.join(DOCKER_DIR, "config", f)
                   for f in sorted(os.listdir(os.path.join(DOCKER_DIR, "config")))]
        configs.append(os.path.join(SYSTEMD_DIR, "meridian.json.example"))
        for path in configs:
            with open(path, encoding="utf-8") as f:
                server = json.load(f)["server"]
            for daemon in daemons:
                if ROLE[daemon] == "server" and not server:
                    continue
                out = subprocess.run([os.path.join(harness.BIN, daemon), "-config-file", path,
                                      "-t"], capture_output=True, text=True, timeout=20)
                self.assertEqual(out.returncode, 0, "%s -t %s: %s%s"
                                 % (daemon, path, out.stdout, out.stderr))


class InstallTest(harness.TestCase):
    def make_install(self, dest, prefix):
        # `-o all`: the suite's `make test` has built the programs already;
        # the test must not rebuild (under `make asan` the flags differ).
        out = subprocess.run(["make", "--no-print-directory", "-o", "all", "install",
                              "DESTDIR=" + dest, "PREFIX=" + prefix, "BIN=" + harness.BIN],
                             cwd=TOP, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def check_tree(self, dest, prefix, unit_dir):
        daemons = unit_daemons()
        for program in os.listdir(harness.BIN):
            src = os.path.join(harness.BIN, program)
            if not (os.path.isfile(src) and os.access(src, os.X_OK)):
                continue
            dst = os.path.join(dest + prefix, "bin", program)
            self.assertTrue(same_file(src, dst), dst)
            self.assertEqual(stat.S_IMODE(os.stat(dst).st_mode), 0o755, dst)
        verify_dir = self.tmpdir()
        to_verify = []
        for f in ["meridian.target"] + ["meridian-%s.service" % d for d in daemons]:
            path = os.path.join(dest + unit_dir, f)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644, path)
            with open(path, encoding="utf-8") as src:
                text = src.read()
            if f.endswith(".service"):
                daemon = f[len("meridian-"):-len(".service")]
                exec_start = dict(read_unit(path)["Service"])["ExecStart"].split()
                self.assertEqual(exec_start, ["%s/bin/%s" % (prefix, daemon),
                                              "-config-file", CONFIG_PATH])
                self.assertTrue(os.access(dest + exec_start[0], os.X_OK), exec_start[0])
            self.assertNotIn("/usr/local/", text.replace(prefix + "/", "<prefix>/"))
            # Verify the installed unit as if DESTDIR were the root.
            with open(os.path.join(verify_dir, f), "w", encoding="utf-8") as out:
                out.write(text.replace(prefix + "/bin/", dest + prefix + "/bin/"))
            to_verify.append(os.path.join(verify_dir, f))
        systemd_verify(self, to_verify)
        with open(os.path.join(dest, "etc/meridian/meridian.json.example"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["data_dir"], DATA_DIR)
        self.assertFalse(os.path.exists(os.path.join(dest, "etc/meridian/meridian.json")))
        programs = supervisor_programs(os.path.join(dest + prefix,
                                                    "share/meridian/supervisor/meridian.conf"))
        for name, p in programs.items():
            binary = p["command"].split()[0]
            self.assertEqual(binary, "%s/bin/%s" % (prefix, name[len("meridian-"):]))
            self.assertTrue(os.access(dest + binary, os.X_OK), binary)
        doc = os.path.join(dest + prefix, "share/doc/meridian/deployment.md")
        self.assertTrue(same_file(os.path.join(TOP, "docs/deployment.md"), doc))

    def test_make_install(self):
        need_binaries(self, unit_daemons())
        for prefix, unit_dir in [("/usr/local", "/usr/local/lib/systemd/system"),
                                 ("/opt/meridian", "/etc/systemd/system")]:
            dest = self.tmpdir()
            self.make_install(dest, prefix)
            first = tree_digest(dest)
            self.check_tree(dest, prefix, unit_dir)
            self.make_install(dest, prefix)       # idempotent
            self.assertEqual(tree_digest(dest), first, "second install changed the tree")

    def test_install_refuses_relative_prefix(self):
        dest = self.tmpdir()
        out = subprocess.run([os.path.join(DEPLOY, "install.sh"), dest, "usr/local"],
                             capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("PREFIX must be an absolute path", out.stderr)
        self.assertEqual(os.listdir(dest), [])


class Traffic(threading.Thread):
    """Writes (distinct node registrations) and reads against one node until
    stopped, recording every answer as (start, end, kind, detail) on the
    monotonic clock, kind being ok, error (500/503 with a text), refused
    (connection refused, reset or closed), hang (no answer within 10 s) or
    bad (anything else)."""

    MAX_ROUNDS = 20000
    TIMEOUT_S = 10

    def __init__(self, base, read_paths, prefix):
        super().__init__(daemon=True)
        self.base = base
        self.prefix = prefix
        self.read_paths = read_paths
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.events = []
        self.acked = []          # node names whose register got 200 true
        self.ok = 0

    def record(self, t0, kind, detail):
        with self.lock:
            self.events.append((t0, time.monotonic(), kind, detail))
            if kind == "ok":
                self.ok += 1

    def request(self, method, path, body=None):
        """(status, body) of a 2xx-4xx answer, or None once recorded."""
        t0 = time.monotonic()
        what = method + " " + path
        try:
            st, _, data = http(method, self.base + path, body, timeout=self.TIMEOUT_S)
        except TimeoutError:
            self.record(t0, "hang", what)
            return None
        except (OSError, HTTPException) as e:
            self.record(t0, "refused", "%s: %r" % (what, e))
            return None
        if st in (500, 503):
            text = data.decode("utf-8", "replace").strip()
            if text:
                self.record(t0, "error", "%s: %d %s" % (what, st, text[:200]))
            else:
                self.record(t0, "bad", "%s: %d with an empty body" % (what, st))
            return None
        return t0, st, data

    def run(self):
        for i in range(self.MAX_ROUNDS):
            if self.stopping.is_set():
                return
            failed = False
            name = "%s%d" % (self.prefix, i)
            answer = self.request("PUT", "/v1/catalog/register",
                                  {"Node": name, "Address": "127.0.6.200"})
            if answer is None:
                failed = True
            else:
                t0, st, data = answer
                if st == 200 and data.strip() == b"true":
                    with self.lock:
                        self.acked.append(name)
                    self.record(t0, "ok", "register")
                else:
                    self.record(t0, "bad", "register: %d %r" % (st, data[:200]))
            for path in self.read_paths:
                answer = self.request("GET", path)
                if answer is None:
                    failed = True
                    continue
                t0, st, data = answer
                try:
                    parsed = json.loads(data)
                except ValueError:
                    parsed = None
                if st == 200 and isinstance(parsed, list):
                    self.record(t0, "ok", path)
                else:
                    self.record(t0, "bad", "GET %s: %d %r" % (path, st, data[:200]))
            if failed:
                self.stopping.wait(0.05)    # during a gap, do not spin


class SupervisorTest(harness.TestCase):
    IP = "127.0.6.10"
    RECOVERY_S = 20

    def setUp(self):
        super().setUp()
        self.conf = None
        self.sup = None
        self.seen_pids = set()
        self.acked_probes = []
        self.log_dir = None
        self.prober = None
        self.read_paths = ["/v1/catalog/nodes"]

    def tearDown(self):
        # supervisord puts each program in its own process group, so the
        # harness' kill of supervisord would not reach them: kill supervisord
        # first (so it restarts nothing), then any daemon still running from
        # this test's config, by its pid.
        if self.sup:
            self.sup.kill9()
        for pid in self.leftover_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        super().tearDown()

    def leftover_pids(self):
        """Processes of this test's daemons that still run (by pid)."""
        if not self.conf:
            return []
        marker = self.config_file.encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if marker in argv:
                pids.append(int(entry))
        return pids

    def ctl(self, *args):
        out = subprocess.run([tool("supervisorctl"), "-c", self.conf] + list(args),
                             capture_output=True, text=True, timeout=20)
        return out.stdout.strip()

    def pid_of(self, program):
        text = self.ctl("pid", program)
        return int(text) if text.isdigit() else 0

    def write_configs(self, d, daemons):
        data_dir = os.path.join(d, "data")
        log_dir = os.path.join(d, "log")
        os.mkdir(log_dir)
        self.config_file = os.path.join(d, "meridian.json")
        with open(self.config_file, "w", encoding="utf-8") as f:
            json.dump({"datacenter": "dc1", "node_name": "deploy-s1", "server": True,
                       "bootstrap_expect": 1, "data_dir": data_dir,
                       "bind_addr": self.IP, "advertise_addr": self.IP,
                       "client_addr": self.IP, "log_level": "debug",
                       "performance": {"raft_multiplier": 1}}, f)
        # The shipped program sections, with this test's paths; no `user=`
        # (the test runs supervisord as whoever runs the suite).
        with open(SUPERVISOR_CONF, encoding="utf-8") as f:
            programs = f.read()
        programs = programs.replace(DEFAULT_PREFIX + "/bin/", harness.BIN + "/")
        programs = programs.replace(CONFIG_PATH, self.config_file)
        programs = programs.replace("/var/log/meridian/", log_dir + "/")
        programs = re.sub(r"(?m)^user=.*\n", "", programs)
        programs_path = os.path.join(d, "meridian.conf")
        with open(programs_path, "w", encoding="utf-8") as f:
            f.write(programs)
        self.conf = os.path.join(d, "supervisord.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("[unix_http_server]\nfile=%(d)s/supervisor.sock\nchmod=0700\n\n"
                    "[supervisord]\nnodaemon=true\nlogfile=%(d)s/supervisord.log\n"
                    "pidfile=%(d)s/supervisord.pid\nchildlogdir=%(d)s/log\n"
                    "logfile_backups=0\n\n"
                    "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                    "supervisor.rpcinterface:make_main_rpcinterface\n\n"
                    "[supervisorctl]\nserverurl=unix://%(d)s/supervisor.sock\n\n"
                    "[include]\nfiles = %(p)s\n" % {"d": d, "p": programs_path})
        return data_dir, log_dir

    def base(self):
        return "http://%s:8500" % self.IP

    def gossip_listening(self):
        """gossipd is bound to the serf LAN port again: TCP listening and
        UDP bound on IP:8301 (read from /proc/net, sending it nothing)."""
        local = "%s:%04X" % ("".join("%02X" % int(b) for b in reversed(self.IP.split("."))),
                             8301)
        found = set()
        for proto, state in (("tcp", "0A"), ("udp", "07")):
            with open("/proc/net/" + proto, encoding="ascii") as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[1] == local and fields[3] == state:
                        found.add(proto)
        return found == {"tcp", "udp"}

    def ask(self, method, path, body=None):
        """(status, decoded body) or (None, None). Once the node has served,
        answers are recorded by self.prober like the clients' (so a probe
        that hangs fails the test too); before that, failures are quiet."""
        if self.prober is None:
            st, _, obj = try_http_json(method, self.base() + path, body)
            return st, obj
        answer = self.prober.request(method, path, body)
        if answer is None:
            return None, None
        t0, st, data = answer
        try:
            obj = json.loads(data)
        except ValueError:
            obj = None
        self.prober.record(t0, "ok" if st == 200 else "bad",
                           "probe %s %s: %d %r" % (method, path, st, data[:200]))
        return st, obj

    def serving(self, probe_name):
        """The node answers every kind of request the clients make."""
        if not self.gossip_listening():
            return False
        st, leader = self.ask("GET", "/v1/status/leader")
        if st != 200 or not leader:
            return False
        for path in self.read_paths:
            st, obj = self.ask("GET", path)
            if st != 200 or not isinstance(obj, list):
                return False
        st, ok = self.ask("PUT", "/v1/catalog/register",
                          {"Node": probe_name, "Address": "127.0.6.201"})
        if st == 200 and ok is True:
            self.acked_probes.append(probe_name)
            return True
        return False

    def test_kill9_each_daemon_under_supervisord(self):
        daemons = [d for d in unit_daemons() if ROLE[d] in ("all", "server")]
        need_binaries(self, daemons)
        tool("supervisorctl")
        d = self.tmpdir()
        data_dir, self.log_dir = self.write_configs(d, daemons)
        try:
            self.kill9_each(d, data_dir, self.log_dir, daemons)
        except AssertionError as e:
            raise AssertionError("%s\nnode logs:\n%s" % (e, self.logs())) from None

    def kill9_each(self, d, data_dir, log_dir, daemons):
        sup = self.sup = self.spawn([tool("supervisord"), "-n", "-c", self.conf],
                                    name="supervisord", log_dir=d)
        self.wait_for(lambda: all(self.pid_of("meridian-" + n) for n in daemons),
                      timeout=20, what="supervisord to start every daemon")
        probes = []
        probe = lambda: (probes.append("deploy-probe%d" % len(probes)) or
                         self.serving(probes[-1]))
        self.wait_for(probe, timeout=30, what="the node to elect itself and serve HTTP")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(data_dir, "run")).st_mode), 0o700)
        # Reads that go through gossipd too, where httpd serves them.
        st, _, _ = try_http_json("GET", self.base() + "/v1/agent/members")
        if st != 404:
            self.read_paths.append("/v1/agent/members")

        # Two clients, so that one still asks while the other waits out a
        # request that was in flight at the kill.
        clients = [Traffic(self.base(), self.read_paths, "deploy-%s-" % c) for c in "ab"]
        self.prober = Traffic(self.base(), self.read_paths, "deploy-probe-")
        ok = lambda: sum(c.ok for c in clients)
        gaps = []       # (daemon, killed at, served again at)
        for c in clients:
            c.start()
        try:
            self.wait_for(lambda: ok() >= 10, timeout=20, what="traffic to flow")
            for daemon in daemons:
                program = "meridian-" + daemon
                old = self.pid_of(program)
                self.assertNotEqual(old, 0)
                self.seen_pids.add(old)
                killed_at = time.monotonic()
                os.kill(old, signal.SIGKILL)
                remaining = lambda: max(0.1, self.RECOVERY_S - (time.monotonic() - killed_at))
                self.wait_for(lambda: self.pid_of(program) not in (0, old),
                              timeout=remaining(), what="supervisord to restart " + program)
                self.seen_pids.add(self.pid_of(program))
                self.wait_for(probe, timeout=remaining(),
                              what="the node to serve again within %ds of kill -9 of %s"
                              % (self.RECOVERY_S, daemon))
                gaps.append((daemon, killed_at, time.monotonic()))
                before = ok()
                self.wait_for(lambda: ok() >= before + 5, timeout=10,
                              what="traffic to flow again after " + daemon)
        finally:
            for c in clients:
                c.stopping.set()
            for c in clients:
                c.join(2 * Traffic.TIMEOUT_S + 5)
        self.assertFalse(any(c.is_alive() for c in clients), "traffic thread wedged")

        def gap_of(t0, t1):
            """The daemon whose gap the request [t0, t1] overlapped; httpd
            first, as a request held through one daemon's gap can still be
            cut by httpd's own kill."""
            overlapped = [d for d, down, up in gaps if t0 <= up and t1 >= down]
            if "httpd" in overlapped:
                return "httpd"
            return overlapped[0] if overlapped else None

        events, acked = [], []
        for c in clients + [self.prober]:
            with c.lock:
                events += c.events
                acked += c.acked
        kinds = {}
        for t0, t1, kind, detail in events:
            kinds.setdefault(kind, []).append((gap_of(t0, t1), detail))
        self.assertEqual(kinds.get("hang", []), [],
                         "requests got no answer within %ds" % Traffic.TIMEOUT_S)
        self.assertEqual(kinds.get("bad", []), [], "unexpected answers")
        self.assertEqual([r for r in kinds.get("refused", []) if r[0] != "httpd"], [],
                         "connection failures while httpd was up")
        self.assertEqual([e for e in kinds.get("error", []) if e[0] is None], [],
                         "errors while no daemon was down")
        self.assertGreater(len(acked), 20)
        st, _, nodes = http_json("GET", self.base() + "/v1/catalog/nodes")
        self.assertEqual(st, 200)
        names = {n["Node"] for n in nodes}
        lost = [n for n in acked + self.acked_probes if n not in names]
        self.assertEqual(lost, [], "acknowledged registrations lost")

        for daemon in daemons:
            with open(os.path.join(log_dir, "meridian-%s.log" % daemon), "rb") as f:
                self.assertTrue(f.read(), "meridian-%s.log is empty" % daemon)

        # SIGTERM to supervisord stops every daemon (each exits 0), then it.
        sup.stop(timeout=60)
        self.assertEqual(self.leftover_pids(), [], "daemons left after supervisord stopped")
        for pid in self.seen_pids:
            self.assertFalse(os.path.exists("/proc/%d" % pid) and
                             self.is_ours(pid), "pid %d still running" % pid)
        with open(os.path.join(d, "supervisord.log"), encoding="utf-8") as f:
            sup_log = f.read()
        for daemon in daemons:
            self.assertIn("stopped: meridian-%s (exit status 0)" % daemon, sup_log)

    def logs(self):
        """The tail of supervisord's and each daemon's log, for failures."""
        text = []
        paths = [os.path.join(self.log_dir, n) for n in sorted(os.listdir(self.log_dir))]
        for path in paths + [os.path.join(os.path.dirname(self.log_dir), "supervisord.log")]:
            try:
                with open(path, "rb") as f:
                    tail = f.read()[-3000:].decode("utf-8", "replace")
            except OSError:
                continue
            text.append("--- %s\n%s" % (os.path.basename(path), tail))
        return "\n".join(text)

    def is_ours(self, pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return self.config_file.encode() in f.read().split(b"\0")
        except OSError:
            return False
