"""Broken on purpose: it implements a hook that does not exist (a misspelling pluggy's check_pending catches)."""

from rasplat.hookspecs import hookimpl


@hookimpl
def rasplat_register_device(register):  # the real hook is rasplat_register_devices
    register("broken,thing", lambda ctx, node: None)
