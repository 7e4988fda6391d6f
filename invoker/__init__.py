"""The invoker service: runs each dispatched activation in a container of its pool (warm, stem cell or cold) over
the action-proxy protocol, holds it to its limits, and ends it in the ledger with its record. The only user of the
Docker engine among the services. It imports the core only, never another service."""
