"""`python -m actionproxy`: serve the proxy on 0.0.0.0:$PORT (8080), one process, quiet."""

import logging
import os

import uvicorn

from actionproxy.app import app

log = logging.getLogger(__name__)

# Longer than the invoker keeps an idle connection (invoker.http1: 600 s), so the client, not the proxy, closes idle
# connections; otherwise a request can race the server's close and look like a dead container.
KEEP_ALIVE_S = 3600


def main() -> None:
    uvicorn.run(
        app,
        host="0.0.0.0",  # inside the container: the invoker reaches it over the function network
        port=int(os.environ.get("PORT", "8080")),
        workers=1,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_S,
    )


if __name__ == "__main__":
    main()
