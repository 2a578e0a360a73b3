"""bms-bridge: the running service — protocol adapters, CLI, scheduling and wiring."""
