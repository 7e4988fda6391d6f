"""`python -m actionproxy`: serve the proxy on 0.0.0.0:$PORT (8080)."""

import os

import uvicorn

from actionproxy.app import create_app

if __name__ == "__main__":
    uvicorn.run(
        create_app(),
        host="0.0.0.0",  # inside the container: the invoker reaches it on the function network
        port=int(os.environ.get("PORT", "8080")),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
