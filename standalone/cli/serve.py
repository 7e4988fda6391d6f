"""`stratus standalone`: the whole platform in one process on embedded defaults."""

import asyncio
import time
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from core.config import StandaloneSettings
from core.errors import StratusError
from core.lifecycle import install_stop_signals, run_loop, setup_logging

if TYPE_CHECKING:
    from standalone.run import Ready

console = Console(stderr=True)


def standalone(
    port: int = typer.Option(None, help="API port (default 3233, or STRATUS_PORT)."),
    data_dir: str = typer.Option(None, help="Where state lives (default ~/.local/share/stratus/standalone)."),
    log_level: str = typer.Option("WARNING", help="Python log level of the platform's own logs."),
) -> None:
    """Run the whole platform (API workers, controller, one invoker) on embedded services; builds the runtime
    image if missing."""
    began = time.monotonic()
    from standalone.run import run_standalone  # imports every service: only when needed

    setup_logging(log_level)
    overrides = {k: v for k, v in {"port": port, "data_dir": data_dir}.items() if v is not None}
    settings = StandaloneSettings(**overrides)  # type: ignore[arg-type]
    _ensure_image(settings)
    starting = console.status("starting redis-server, the MongoDB-wire store, the API, the controller and the invoker…")
    starting.start()

    def ready(info: "Ready") -> None:
        starting.stop()
        console.print(f"[bold green]Stratus is up[/bold green] ({time.monotonic() - began:.1f} s)")
        # the whole key on a terminal only: redirected, the banner is a log, and logs hold no keys
        key = info.guest_key if console.is_terminal else f"{info.guest_key.partition(':')[0]}:…"
        for label, value in (
            ("API", info.api_url),
            ("Key", f"{key}  (namespace guest; kept in {info.data_dir / 'guest.key'})"),
            ("Data", str(info.data_dir)),
            ("Redis", info.redis_url),
            ("Mongo", info.mongo_url),
            ("Metrics", f"{info.api_url}/metrics (API, controller), {info.metrics_url} (invoker)"),
        ):
            console.print(f"  {label:<8}{value}", soft_wrap=True, highlight=False)
        console.print(
            f'  Try:  curl -u "$(cat {info.data_dir / "guest.key"})" {info.api_url}/api/v1/namespaces',
            soft_wrap=True,
            highlight=False,
        )
        print(f"STRATUS_API_URL={info.api_url}", flush=True)
        print(f"STRATUS_REDIS_URL={info.redis_url}", flush=True)
        print(f"STRATUS_MONGO_URL={info.mongo_url}", flush=True)
        print(f"STRATUS_KEY={info.guest_key}", flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        await run_standalone(settings, stop, ready)

    try:
        run_loop(main())
    except StratusError as exc:
        starting.stop()
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    finally:
        starting.stop()


def _ensure_image(settings: StandaloneSettings) -> None:
    """The default kind's runtime image and those of the stem cells; other kinds: `stratus image build`."""
    from core import kinds
    from images import engine, ensure_runtime_image

    wanted = [kinds.DEFAULT, *(kinds.runtime(cells.kind) for cells in settings.stem_cells)]
    try:
        client = engine()
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    try:
        with console.status("checking the runtime images…"):
            for runtime in dict.fromkeys(wanted):
                base = settings.base_image if runtime is kinds.DEFAULT and settings.base_image else None
                repository = settings.runtime_repository
                ensure_runtime_image(client, runtime, repository=repository, base_image=base, say=console.print)
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
