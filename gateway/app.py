"""create_app(): routers, error handlers and the backends' lifespan."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from gateway.deps import Backends
from gateway.errors import TransactionIdMiddleware, install_error_handlers
from gateway.fast_path import InvokeFastPath
from gateway.metrics import RequestMetrics
from gateway.routes import (
    actions,
    activations,
    admin,
    api_gateway,
    apis,
    console,
    feeds,
    info,
    namespaces,
    packages,
    rules,
    triggers,
    web,
)
from gateway.web_cors import ResourceCors
from gateway.web_hosts import WebHosts

OpenBackends = Callable[[], AbstractAsyncContextManager[Backends]]


def create_app(open_backends: OpenBackends) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_backends() as backends:
            app.state.backends = backends
            backends.replies.start()
            stop = asyncio.Event()
            placer = asyncio.create_task(backends.placer.run(backends.bus, stop), name="gateway-placer")
            try:
                yield
            finally:
                stop.set()
                await placer
                await backends.replies.stop()

    app = FastAPI(
        title="Stratus",
        description="An OpenWhisk-compatible Function-as-a-Service API. Authenticate with HTTP Basic `uuid:key`.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(ResourceCors)  # web actions and API routes set their own CORS
    app.add_middleware(TransactionIdMiddleware)
    app.add_middleware(RequestMetrics)  # every request the app answers; the fast path counts its own
    app.add_middleware(InvokeFastPath, state=app.state)  # the hot route skips the rest
    app.add_middleware(WebHosts, state=app.state)  # outermost: a namespace's host is routed as its web paths
    # api_gateway after the API (/api/{ns}/...); the console after everything, off the invoke path
    routers = (
        *(info, admin, namespaces, feeds, actions, packages, triggers, rules, activations, web),
        *(apis, api_gateway, console),
    )
    for module in routers:
        app.include_router(module.router)
    return app
