"""The operator commands (they reach the stores, the ledger, Redis and the Docker engine directly), and the whole
`stratus` command assembled from them and the client side's user commands (main)."""
