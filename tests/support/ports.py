"""A free loopback TCP port for a private test server."""

import socket


def free_port() -> int:
    """A port nothing listens on right now. Another process may take it before the caller binds,
    so servers that use it retry on a new port when they fail to start."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
