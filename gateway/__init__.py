"""The gateway service, the platform's HTTP edge (FastAPI): authenticates, validates, throttles, answers the
OpenWhisk REST API, web actions and API routes, and hands invocations to the controller over the bus. It imports
the core only, never another service."""
