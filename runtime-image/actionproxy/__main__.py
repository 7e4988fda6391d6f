"""`python -m actionproxy`: serve the proxy on 0.0.0.0:$PORT (8080), one process, quiet.

SIGTERM ends it at once: as a container's process 1 it would otherwise be ignored until Docker's kill.
"""

import asyncio
import os
import signal

from actionproxy.app import create_app
from actionproxy.server import serve


async def main() -> None:
    app = create_app()
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        # 0.0.0.0 inside the container: the invoker reaches it over the function network
        await serve(app, "0.0.0.0", int(os.environ.get("PORT", "8080")))
    except asyncio.CancelledError:
        pass


if __name__ == "__main__":
    asyncio.run(main())
