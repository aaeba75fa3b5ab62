"""Generate the reference pages that are derived from the code (run by mkdocs-gen-files).

* ``reference/configuration.md``: every key of :class:`arbot.config.BotConfig` and its nested
  sections (type, default, constraints, description), then the ``Settings`` of every installed
  component, found through :class:`arbot.plugins.PluginHost`. A key without a ``description``
  (core or component) fails the build.
* ``reference/cli.md``: the ``--help`` of every ``arbot`` command, plugins' commands included.
* ``reference/api.md``: every name of :mod:`arbot.api` (the one module plugin authors import
  from), where it is defined and what it is, linked to its API page when it has one.

Defaults are computed with an empty environment, and secret values are never rendered: the page
is the same on every machine and cannot leak a credential.
"""

from __future__ import annotations

import ast
import enum
import html
import inspect
import os
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import annotated_types as at
import click
from arbot.config import BotConfig
from arbot.plugins import PluginHost
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

#: Where each component kind's settings live in a configuration file.
COMPONENT_TABLES = {
    "connector": "connectors",
    "detector": "detector",
    "risk_rule": "risk",
    "executor": "executor",
    "sink": "sinks",
    "source": "source",
}


class MissingDescriptionError(RuntimeError):
    """Configuration keys without a ``description``: the reference would be incomplete."""


@dataclass(frozen=True)
class Key:
    """One documented configuration key."""

    key: str
    type: str
    default: str
    constraints: str
    description: str


@dataclass(frozen=True)
class Section:
    """A TOML table and its keys."""

    table: str
    doc: str
    keys: list[Key]


# -- rendering types, defaults, constraints -------------------------------------------------


def type_name(ann: object) -> str:
    """A readable name of a type annotation (``list[str]``, ``"paper" | "live"``, ``float | None``)."""
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if ann is type(None):
        return "None"
    if ann is typing.Any:
        return "any"
    if origin is typing.Literal:
        return " | ".join(f'"{a}"' if isinstance(a, str) else repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(a) for a in args)}]" if args else name
    if isinstance(ann, type):
        if issubclass(ann, SecretStr | SecretBytes):
            return "secret string"
        if issubclass(ann, enum.Enum):
            return " | ".join(f'"{m.value}"' for m in ann)
        return ann.__name__
    return str(ann).replace("typing.", "")


def toml_value(value: object) -> str:
    """``value`` written as a TOML literal (secrets masked)."""
    if isinstance(value, SecretStr | SecretBytes):
        return '"**********"' if value.get_secret_value() else '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return toml_value(value.value)
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, BaseModel):
        return toml_value(value.model_dump())
    return repr(value)


def _toml_key(key: object) -> str:
    text = str(key)
    return text if text.replace("_", "").replace("-", "").isalnum() else f'"{text}"'


def default_of(field: FieldInfo) -> str:
    """The default of ``field`` as TOML, computed with an empty environment; "required" if none."""
    if _is_secret(field.annotation):
        return "secret, never shown"
    if field.default_factory is not None:
        with mock.patch.dict(os.environ, clear=True):
            value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    return toml_value(value)


def _is_secret(ann: object) -> bool:
    if isinstance(ann, type) and issubclass(ann, SecretStr | SecretBytes):
        return True
    return any(_is_secret(a) for a in typing.get_args(ann))


_BOUNDS = ((at.Gt, ">", "gt"), (at.Ge, "≥", "ge"), (at.Lt, "<", "lt"), (at.Le, "≤", "le"))


def constraints_of(field: FieldInfo) -> str:
    """Bounds and length limits of ``field`` (``> 0``, ``≤ 100``), comma-separated."""
    parts: list[str] = []
    for meta in field.metadata:
        for cls, sign, attr in _BOUNDS:
            if isinstance(meta, cls):
                parts.append(f"{sign} {getattr(meta, attr)}")
        if isinstance(meta, at.MinLen):
            parts.append(f"at least {meta.min_length} items")
        if isinstance(meta, at.MaxLen):
            parts.append(f"at most {meta.max_length} items")
    return ", ".join(parts)


# -- walking the models -------------------------------------------------------------------------


def _model_of(ann: object) -> type[BaseModel] | None:
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _dict_of_model(ann: object) -> type[BaseModel] | None:
    if typing.get_origin(ann) is dict:
        return _model_of(typing.get_args(ann)[1])
    return None


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split("\n\n")[0].split())


def sections(model: type[BaseModel], table: str = "", doc: str = "") -> Iterator[Section]:
    """The TOML tables of ``model``: its own scalar keys first, then each nested section."""
    keys: list[Key] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        full = f"{table}.{name}" if table else name
        sub = _model_of(field.annotation)
        if sub is not None:
            nested.append((full, sub))
            continue
        item = _dict_of_model(field.annotation)
        if item is not None:
            nested.append((f"{full}.<name>", item))
        keys.append(
            Key(
                key=name,
                type=type_name(field.annotation),
                default=default_of(field),
                constraints=constraints_of(field),
                description=" ".join((field.description or "").split()),
            )
        )
    yield Section(table, doc or _doc(model), keys)
    for full, sub in nested:
        yield from sections(sub, full)


def missing_descriptions(found: list[Section]) -> list[str]:
    """Every key of ``found`` without a description, as ``table.key``."""
    return [f"{s.table}.{k.key}" if s.table else k.key for s in found for k in s.keys if not k.description]


def _table(section: Section) -> list[str]:
    if not section.keys:
        return []
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for k in section.keys:
        desc = k.description or "*(no description)*"
        if k.constraints:
            desc += f" ({k.constraints})"
        lines.append(f"| {_code(k.key)} | {_code(k.type)} | {_code(k.default)} | {_cell(desc)} |")
    return [*lines, ""]


def _code(text: str) -> str:
    """``text`` as inline code in a table cell (HTML, so a ``|`` in a type does not split the cell)."""
    return "<code>" + html.escape(text, quote=False).replace("|", "&#124;").replace("\n", " ") + "</code>"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_config_reference(host: PluginHost | None = None) -> str:
    """The configuration reference page; raises :class:`MissingDescriptionError` for a key of the
    core or of an installed component that has no description."""
    core = list(sections(BotConfig, "", "Top-level keys of a configuration file."))
    missing = missing_descriptions(core)
    if missing:
        raise MissingDescriptionError(
            f"{len(missing)} configuration keys of arbot.config have no description "
            f"(add Field(description=...)): {', '.join(missing)}"
        )
    out = [
        "# Configuration reference",
        "",
        "Generated from the pydantic models of `arbot.config` and from the `Settings` of every",
        "component installed when the documentation was built. Unknown keys are errors. Defaults",
        "are shown as TOML; secrets come from the environment and are never shown.",
        "",
        "## Core",
        "",
    ]
    for s in core:
        out += [f"### `[{s.table}]`" if s.table else "### Top level", "", s.doc, "", *_table(s)]
    host = host or PluginHost()
    out += [
        "## Components",
        "",
        "Each component validates its own table with its `Settings` model. Installed here:",
        "",
    ]
    undocumented: list[str] = []
    for info in host.components():
        # a component that owns a top-level section (alerts.telegram) is configured there
        table = info.cls.config_section or f"{COMPONENT_TABLES.get(info.kind, info.kind)}.{info.name}"
        model = info.cls.Settings
        found = list(sections(model, table, info.description))
        undocumented += [f"{k} ({info.package})" for k in missing_descriptions(found)]
        about = f"{info.kind} `{info.name}` from `{info.package}`. {info.description}"
        out += [f"### `[{table}]`", "", about, ""]
        for s in found:
            if s.table != table:
                out += [f"#### `[{s.table}]`", ""]
            out += _table(s) or ["No settings.", ""]
    if undocumented:
        raise MissingDescriptionError(
            f"{len(undocumented)} component settings have no description "
            f"(add Field(description=...)): {', '.join(undocumented)}"
        )
    return "\n".join(out)


# -- the command line -------------------------------------------------------------------------


def _commands(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from _commands(cmd.commands[name], f"{path} {name}")


def render_cli_reference(host: PluginHost | None = None) -> str:
    """The ``--help`` of every command, plugins' commands included."""
    from arbot.cli import cli

    host = host or PluginHost()
    host.hook.arbot_register_commands(cli=cli)
    out = [
        "# Command line reference",
        "",
        "Generated from the `arbot` command and the commands installed plugins add. Exit codes:",
        "0 success, 1 runtime failure or lost data, 2 usage or configuration error.",
        "",
    ]
    for path, cmd in _commands(cli, "arbot"):
        ctx = click.Context(cmd, info_name=path, terminal_width=100, max_content_width=100)
        out += [f"## `{path}`", "", "```text", cmd.get_help(ctx), "```", ""]
    return "\n".join(out)


# -- arbot.api ----------------------------------------------------------------------------------


def _defining_module(name: str, obj: object) -> str:
    """The arbot module that defines ``name`` at its top level (not one that imports it)."""
    own = getattr(obj, "__module__", None)
    defined_by_itself = inspect.isclass(obj) or inspect.isfunction(obj)
    if isinstance(own, str) and own.startswith("arbot.") and defined_by_itself:
        return own
    for module in sorted((m for m in list(sys.modules.values()) if m is not None), key=lambda m: m.__name__):
        if module.__name__.startswith("arbot.") and getattr(module, name, None) is obj:
            tree = ast.parse(inspect.getsource(module))
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    return module.__name__
    return "arbot.api"


def render_api_index() -> str:
    """A table of every name :mod:`arbot.api` exports."""
    import arbot.api

    out = [
        "# `arbot.api`",
        "",
        "Everything a plugin author or a library user needs imports from one module:",
        "",
        "```python",
        "from arbot.api import Detector, ComponentSettings, Opportunity, Leg, Side, hookimpl",
        "```",
        "",
        "| name | defined in | what it is |",
        "| --- | --- | --- |",
    ]
    for name in sorted(arbot.api.__all__, key=str.lower):
        obj = getattr(arbot.api, name)
        module = _defining_module(name, obj)
        target = f"{module}.{name}"
        link = f'<autoref identifier="{target}" optional><code>{name}</code></autoref>'
        if isinstance(obj, type) or inspect.isfunction(obj):
            summary = " ".join((obj.__doc__ or "").strip().split("\n\n")[0].split())
        elif isinstance(obj, types.UnionType):
            summary = f"type alias: {_code(' | '.join(a.__name__ for a in typing.get_args(obj)))}"
        else:
            summary = " ".join((type(obj).__doc__ or "").strip().split("\n\n")[0].split())
        out.append(f"| {link} | `{module}` | {_cell(summary)} |")
    return "\n".join([*out, ""])


def main() -> None:
    """Write the generated pages into the mkdocs build."""
    import mkdocs_gen_files

    host = PluginHost()
    with mkdocs_gen_files.open("reference/configuration.md", "w") as fh:
        fh.write(render_config_reference(host))
    with mkdocs_gen_files.open("reference/cli.md", "w") as fh:
        fh.write(render_cli_reference(host))
    with mkdocs_gen_files.open("reference/api.md", "w") as fh:
        fh.write(render_api_index())


if __name__ in {"__main__", "<run_path>"}:
    main()
