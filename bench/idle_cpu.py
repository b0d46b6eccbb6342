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


def tree_cpu_seconds(root: int) -> tuple[float, int]:
    """User + system CPU of ``root``'s live descendants (and their reaped children), and their count."""
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
    total, count, todo = 0, 0, [root]
    while todo:
        for pid, ticks in children.get(todo.pop(), []):
            total, count = total + ticks, count + 1
            todo.append(pid)
    return total / os.sysconf("SC_CLK_TCK"), count


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
        before, processes = tree_cpu_seconds(ui.pid)
        time.sleep(args.seconds)
        after, _ = tree_cpu_seconds(ui.pid)
        print(
            f"idle twin ui: {after - before:.1f} CPU-s in {args.seconds:.0f} s "
            f"({processes} processes; {100 * (after - before) / args.seconds:.0f} % of one core)"
        )
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
