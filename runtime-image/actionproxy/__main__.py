"""`python -m actionproxy`: serve the proxy on 0.0.0.0:$PORT (8080), one process, quiet.

SIGTERM ends it at once: as a container's process 1 it would otherwise be ignored until Docker's kill.
"""

import os
import signal
import sys

from actionproxy.app import create_app
from actionproxy.server import Server


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # 0.0.0.0 inside the container: the invoker reaches it over the function network
    Server(create_app().handle, "0.0.0.0", int(os.environ.get("PORT", "8080"))).serve_forever()


if __name__ == "__main__":
    main()
