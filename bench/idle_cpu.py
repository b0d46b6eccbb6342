"""What an idle deployed twin costs in CPU (a benchmark, not a test).

    python bench/idle_cpu.py [--settle 40] [--seconds 60]

Starts `twin ui` (Dagster webserver + daemon, MLflow UI) on a fresh temporary TWIN_HOME and free
ports, waits until the webserver answers and ``--settle`` seconds more (the start-up's own work),
then sums the CPU time of the whole process tree from /proc over ``--seconds``: the sensors' and
the run queue's ticks with nothing landed. On two cores this is what the rest of the machine (or
the other test worker) loses while a twin waits for data. Stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.ports import free_port  # noqa: E402


def _command(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    # the program and its first arguments: "dagster-daemon run", "dagster api grpc", "mlflow server"
    names = [Path(w.decode(errors="replace")).name for w in words[:4] if w]
    return " ".join(n for n in names if n not in ("python", "python3", "python3.11"))[:60]


def tree_cpu_by_process(root: int) -> dict[tuple[int, str], float]:
    """CPU seconds of each live descendant of ``root`` (with its reaped children), by (pid, command)."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while listed
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        children.setdefault(int(fields[1]), []).append((int(entry), ticks))
    out, todo = {}, [root]
    while todo:
        for pid, ticks in children.get(todo.pop(), []):
            out[(pid, _command(pid))] = ticks / os.sysconf("SC_CLK_TCK")
            todo.append(pid)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settle", type=float, default=40.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="twin-idle-"))
    env = {**os.environ, "TWIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    port, mlflow_port = free_port(), free_port()
    twin = Path(sys.executable).with_name("twin")
    with (home / "ui.log").open("w") as log:
        ui = subprocess.Popen(
            [twin, "ui", "--port", str(port), "--mlflow-port", str(mlflow_port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or ui.poll() is not None:
                    print(f"twin ui did not come up (log: {home / 'ui.log'})", file=sys.stderr)
                    return 1
                time.sleep(1)
        time.sleep(args.settle)
        before = tree_cpu_by_process(ui.pid)
        time.sleep(args.seconds)
        after = tree_cpu_by_process(ui.pid)
        used = {p: after[p] - before.get(p, 0.0) for p in after}
        total = sum(used.values())
        print(
            f"idle twin ui: {total:.1f} CPU-s in {args.seconds:.0f} s "
            f"({len(after)} processes; {100 * total / args.seconds:.0f} % of one core)"
        )
        for (pid, command), seconds in sorted(used.items(), key=lambda x: -x[1]):
            if seconds >= 0.05:
                print(f"  {seconds:5.1f} s  {command} ({pid})")
        return 0
    finally:
        ui.send_signal(signal.SIGINT)  # twin ui stops everything it started
        try:
            ui.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
