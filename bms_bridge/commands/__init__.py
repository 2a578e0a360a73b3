"""One module per CLI command; each exposes `run(args) -> int` (the exit code)."""
