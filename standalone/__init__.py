"""The composition root, above every service: `stratus standalone` (the gateway, the controller and an invoker on
embedded stand-ins: standalone.run, standalone.embedded, standalone.processes) and the `stratus` command itself,
which adds the operator commands that reach platform internals (`standalone`, `admin`, `image`) to the client
side's user commands (standalone.cli.main). `python -m standalone ...` is the `stratus` command."""
