"""`twin ui` stops everything it started, grandchildren included, and refuses a busy port."""

import signal
import socket
import subprocess
import sys
import time

import pytest

from orchestration.cli.errors import UserError
from orchestration.cli.ui import HOST, port_is_free, serve, stop_process_groups
from twin.paths import TwinPaths

# A child that starts a grandchild and ignores SIGINT, like a server whose workers linger.
STUBBORN = (
    "import subprocess, signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "subprocess.Popen(['sleep', '300']); time.sleep(300)"
)


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for an init process that may never reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stopping_reaches_grandchildren_even_when_sigint_is_ignored() -> None:
    child = subprocess.Popen([sys.executable, "-c", STUBBORN], start_new_session=True)
    time.sleep(1.0)
    grandchildren = [
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-g", str(child.pid)], capture_output=True, text=True
        ).stdout.split()
        if int(pid) != child.pid
    ]
    assert grandchildren, "the child should have started a grandchild"
    stop_process_groups([child], grace_s=1.0)
    time.sleep(0.2)
    assert child.poll() == -signal.SIGKILL
    assert not any(_alive(pid) for pid in grandchildren)


def test_a_busy_port_is_one_sentence(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(UserError, match=f"port {port} on {HOST} is in use"):
            serve(TwinPaths(tmp_path).ensure(), port=port, mlflow_port=port + 1)
