"""The domain core: meter profiles, decoding, counters, intervals, virtual points, and the store."""
