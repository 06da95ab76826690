"""Parks N blocking queries on a Meridian agent and reports the RSS growth
of its httpd and catalogd per 1,000 watchers. Each watcher is one idle
keep-alive connection with a 5-minute blocking GET; no threads."""

import argparse
import json
import resource
import socket
import subprocess
import time
import urllib.request


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(agent_pid):
    out = subprocess.run(["pgrep", "-P", str(agent_pid)], capture_output=True, text=True)
    pids = {}
    for pid in out.stdout.split():
        with open("/proc/%s/comm" % pid) as f:
            pids[f.read().strip()] = int(pid)
    return pids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--agent-pid", type=int, required=True)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 1000), hard))
    host, port = args.addr.split(":")
    url = "http://%s/v1/catalog/service/web" % args.addr
    with urllib.request.urlopen(url) as r:
        index = r.headers["X-Consul-Index"]
    daemons = children(args.agent_pid)
    watched = {k: v for k, v in daemons.items() if k in ("httpd", "catalogd")}
    before = {k: rss_kib(v) for k, v in watched.items()}
    request = ("GET /v1/catalog/service/web?index=%s&wait=5m HTTP/1.1\r\nHost: %s\r\n\r\n"
               % (index, args.addr)).encode()
    socks = []
    t0 = time.monotonic()
    for _ in range(args.count):
        s = socket.create_connection((host, int(port)))
        s.sendall(request)
        socks.append(s)
    time.sleep(3)
    # every watcher must still be parked (no response yet)
    for s in socks[:: max(1, args.count // 50)]:
        s.setblocking(False)
        try:
            data = s.recv(1)
            raise SystemExit("a watcher got an answer early: %r" % data)
        except BlockingIOError:
            pass
    after = {k: rss_kib(v) for k, v in watched.items()}
    grown = sum(after.values()) - sum(before.values())
    print("  parked %d watchers in %.1fs" % (args.count, time.monotonic() - t0))
    for k in sorted(watched):
        print("  %-9s RSS %7.1f MiB -> %7.1f MiB" % (k, before[k] / 1024, after[k] / 1024))
    print("  total growth %.1f MiB = %.2f MiB per 1,000 watchers; total RSS %.1f MiB"
          % (grown / 1024, grown / 1024 / (args.count / 1000), sum(after.values()) / 1024))
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
