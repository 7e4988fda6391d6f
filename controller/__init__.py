"""The controller service: reads invocations, places each on an invoker with room (warm-aware), books capacity in
the ledger, runs sequences, rules and alarms, recovers what a dead invoker held and writes the activation records.
It imports the core only, never another service."""
