"""OS-side RAS policy logic (what rasdaemon and the kernel do with error reports), kept free of platform wiring:
each policy takes callbacks and a clock, so the kernel model and plugins decide what the actions do."""
