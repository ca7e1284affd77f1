#!/usr/bin/env python3
# RSS per idle connection of a server: starts SERVER_CMD (with {port}), reads
# its process group's RSS, opens N idle TCP connections (no bytes sent; with
# --pending B each sends the first B bytes of a frame), waits, reads RSS again.
# usage: idle_rss.py --conns 10000 [--pending 0] [--settle 3] -- SERVER CMD with {port}
import argparse, os, random, signal, socket, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--conns", type=int, default=10000)
ap.add_argument("--pending", type=int, default=0)
ap.add_argument("--settle", type=float, default=3.0)
ap.add_argument("cmd", nargs=argparse.REMAINDER)
a = ap.parse_args()
cmd = " ".join(a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd)
port = random.randint(20000, 40000)
p = subprocess.Popen(cmd.replace("{port}", str(port)), shell=True, start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def rss_kib():
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != p.pid:
                continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            pass
    return total

for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", port)).close()
        break
    except OSError:
        time.sleep(0.1)
time.sleep(a.settle)
before = rss_kib()
socks = []
frame = (1000).to_bytes(4, "big") + b"x" * 1000
for i in range(a.conns):
    s = socket.create_connection(("127.0.0.1", port))
    if a.pending:
        s.sendall(frame[: a.pending])
    socks.append(s)
time.sleep(a.settle)
after = rss_kib()
time.sleep(a.settle)
after2 = rss_kib()
os.killpg(p.pid, signal.SIGTERM)
for s in socks:
    s.close()
try:
    p.wait(5)
except subprocess.TimeoutExpired:
    os.killpg(p.pid, signal.SIGKILL)
per = (max(after, after2) - before) / a.conns
print(f"conns={a.conns} pending={a.pending} rss_before_kib={before} rss_after_kib={after},{after2} per_conn_kib={per:.2f}  cmd={cmd}")
