"""A griffe extension for the API pages: ArBot's docstrings use Sphinx roles, the site Markdown.

``:class:`~arbot.components.Connector``` becomes an optional cross-reference, a link when the
target is documented on the site and plain code otherwise (so strict builds do not fail on a
reference to an undocumented module); a paragraph ending in ``::`` (a reST literal block) ends
in ``:``, the indented block below it being a Markdown code block already.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(?P<tilde>~?)(?P<target>[\w.]+)`")
_LITERAL = re.compile(r"(?<=\S)::$", re.M)


def markdown_of(text: str) -> str:
    """``text`` with Sphinx roles turned into autorefs and ``::`` literal markers into ``:``."""

    def link(m: re.Match[str]) -> str:
        target = m["target"]
        shown = target.rsplit(".", 1)[-1] if m["tilde"] else target
        return f'<autoref identifier="{target}" optional><code>{shown}</code></autoref>'

    return _LITERAL.sub(":", _ROLE.sub(link, text))


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of the loaded objects with :func:`markdown_of`."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Convert this object's docstring."""
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)
