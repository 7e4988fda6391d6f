"""The platform core, shared by the gateway, the controller and the invoker: settings, ids, models, limits and
kinds, the stream messages and the bus, the ledger, placement (policies and the placer), the entity and
activation stores, the consumer loop and the service lifecycle. It imports no service, no web framework,
and nothing of the client side (stratus)."""
