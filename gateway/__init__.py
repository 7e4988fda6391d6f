"""The gateway service, the platform's HTTP edge (FastAPI): authenticates, validates, throttles, answers the
OpenWhisk REST API, web actions and API routes, and places invocations on invokers itself (core.placer),
handing the controller only what it cannot place. It imports the core only, never another service."""
