"""`python -m actionproxy`: serve the proxy on 0.0.0.0:$PORT (8080), one process, quiet.

It listens before it imports the proxy, with the built-in `_socket` alone: from then on the kernel completes
the invoker's connection and holds its /init until the server accepts it, so the invoker's connects stop
being refused (one every 5 ms, each competing for the CPU with this start) once the interpreter runs,
rather than after the imports. An import that fails still ends the process, which drops the connection.

SIGTERM ends it at once: as a container's process 1 it would otherwise be ignored until Docker's kill.
"""

import _socket
import os
import sys


def listen(port: int) -> int:
    """The descriptor of a TCP socket listening on 0.0.0.0:`port` (inside the container: the invoker
    reaches it over the function network)."""
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    raw.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    raw.bind(("0.0.0.0", port))
    raw.listen(128)
    return raw.detach()


def main() -> None:
    listening = listen(int(os.environ.get("PORT", "8080")))
    import signal  # the proxy's imports come after listen(): see the module's docstring

    from actionproxy.app import create_app
    from actionproxy.server import Server

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Server(create_app().handle, listening_fd=listening).serve_forever()


if __name__ == "__main__":
    main()
