"""A plugin that is broken on purpose (used by rasplat's tests)."""
