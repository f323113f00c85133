"""Execute cores. `interp` translates each decoded instruction into a small Python function, once."""
