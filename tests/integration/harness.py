"""Integration-test harness: starts Meridian's real binaries on loopback,
talks HTTP to them, and cleans up everything a test started.

Tests poll with deadlines (wait_for), never sleep to synchronise, and leave
no process or temp dir behind (tearDown kills and removes)."""

import http.client as httpclient
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MERIDIAN_BIN", os.path.join(TOP, "bin"))
BUILD = os.environ.get("MERIDIAN_BUILD", os.path.join(TOP, "build"))
TOOLS = os.path.join(BUILD, "tests")


class Proc:
    """A started program; its output goes to a log file in its test's tmp."""

    def __init__(self, argv, name, log_path, env=None):
        self.argv = argv
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env,
                                      start_new_session=True)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout=15, expect_clean=True):
        """SIGTERM and wait; with expect_clean, the exit status must be 0."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError("%s did not exit within %ss of SIGTERM\n%s"
                                 % (self.name, timeout, self.log_text()[-3000:]))
        self._log.close()
        if expect_clean and rc != 0:
            raise AssertionError("%s exited %s after SIGTERM\n%s"
                                 % (self.name, rc, self.log_text()[-3000:]))
        return rc

    def kill9(self):
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                os.kill(self.pid, signal.SIGKILL)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()

    def wait_exit(self, timeout):
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


class Agent:
    """A `meridian agent` process and how to reach its HTTP API."""

    def __init__(self, proc, ip, data_dir, http_port=8500):
        self.proc = proc
        self.ip = ip
        self.data_dir = data_dir
        self.http_port = http_port

    @property
    def http_addr(self):
        return "%s:%d" % (self.ip, self.http_port)

    def url(self, path):
        return "http://%s%s" % (self.http_addr, path)


def http(method, url, body=None, headers=None, timeout=10):
    """One request on a fresh connection. Returns (status, headers, bytes);
    header names are lowercased."""
    parts = urllib.parse.urlsplit(url)
    conn = httpclient.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    path = parts.path + ("?" + parts.query if parts.query else "")
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def http_json(method, url, body=None, headers=None, timeout=10):
    """Like http() but decodes a JSON body (None when it is not JSON)."""
    status, hdrs, data = http(method, url, body, headers, timeout)
    try:
        obj = json.loads(data) if data else None
    except ValueError:
        obj = None
    return status, hdrs, obj


def try_http_json(method, url, body=None, timeout=2):
    """http_json that returns (None, {}, None) when the server is not up."""
    try:
        return http_json(method, url, body, timeout=timeout)
    except (OSError, httpclient.HTTPException):
        return None, {}, None


class TestCase(unittest.TestCase):
    """Base class: tracks processes and temp dirs and removes them."""

    def setUp(self):
        self._procs = []
        self._dirs = []

    def tearDown(self):
        for p in reversed(self._procs):
            p.kill9()
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="mrd-test-")
        self._dirs.append(d)
        return d

    def spawn(self, argv, name=None, env=None, log_dir=None):
        name = name or os.path.basename(argv[0])
        log_dir = log_dir or self.tmpdir()
        p = Proc(argv, name, os.path.join(log_dir, name + ".log"), env)
        self._procs.append(p)
        return p

    def wait_for(self, fn, timeout=10, what="condition", interval=0.05):
        """Polls fn until it returns a true value, which is returned."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = fn()
                if value:
                    return value
            except Exception as e:  # noqa: BLE001 - polled code may fail while starting
                last_error = e
            time.sleep(interval)
        self.fail("timed out after %ss waiting for %s%s" % (
            timeout, what, " (last error: %r)" % last_error if last_error else ""))

    def start_agent(self, ip, args=None, data_dir=None, http_port=8500, wait=True):
        """Starts `meridian agent` bound to ip (HTTP on ip:http_port)."""
        data_dir = data_dir or self.tmpdir()
        argv = [os.path.join(BIN, "meridian"), "agent", "-bind", ip, "-client", ip,
                "-data-dir", data_dir] + list(args or [])
        if http_port != 8500:
            argv += ["-http-port", str(http_port)]
        proc = self.spawn(argv, name="agent-" + ip)
        agent = Agent(proc, ip, data_dir, http_port)
        if wait:
            self.wait_for(lambda: self._agent_ready(agent), timeout=30,
                          what="agent on %s to answer HTTP with a leader" % ip)
        return agent

    def _agent_ready(self, agent):
        if not agent.proc.alive():
            self.fail("agent on %s exited early:\n%s" % (agent.ip, agent.proc.log_text()[-4000:]))
        status, _, leader = try_http_json("GET", agent.url("/v1/status/leader"))
        return status == 200 and bool(leader)
