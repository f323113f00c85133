"""ACME's rasplat plugin (an example of a third-party package)."""
