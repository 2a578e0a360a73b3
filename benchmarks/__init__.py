"""Speed and size measurements; run them all with `python -m benchmarks` (or name some: `... store`)."""
