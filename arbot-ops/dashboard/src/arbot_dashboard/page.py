"""The dashboard page: ``page.html`` beside this module, its CSS and JavaScript inline (no
external assets).

The script opens ``/ws`` (passing the page's ``token`` query parameter on), renders each pushed
state with ``textContent`` only (reasons are free text: never parsed as HTML), and reconnects
with a growing delay (0.5 s .. 5 s) whenever the socket closes. ``window.arbot`` exposes the
socket and its connect and message counts (the browser test reads them).
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["PAGE"]

#: The page's HTML.
PAGE = files("arbot_dashboard").joinpath("page.html").read_text(encoding="utf-8")
