"""A plugin whose registration hook raises: it must be reported, and the others still load."""

from arbot import hookimpl


@hookimpl
def arbot_register_sinks():  # type: ignore[no-untyped-def]
    raise RuntimeError("cannot register: missing native library")
