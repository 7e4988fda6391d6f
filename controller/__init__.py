"""The controller service: places what a gateway could not (no healthy invoker yet, a booking lost to another
placer) with the same placer (core.placer), runs sequences, rules and alarms, recovers what a dead invoker held
and writes the activation records.
It imports the core only, never another service."""
