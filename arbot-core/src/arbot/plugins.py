"""Plugin discovery and the component registry: one plugin manager per bot, no global state.

:class:`PluginHost` creates a pluggy manager, registers ArBot's built-in plugin, loads every
``arbot`` entry point (a plugin that fails to import is recorded, named with its package and
the cause, and the others still load), and collects the component classes each registration
hook returns into a registry keyed by kind and name.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

import attrs
import pluggy
from pluggy import HookImpl, Result

from arbot import hookspecs
from arbot.components import Component, ReplayDecoder
from arbot.errors import PluginConflictError, UnknownComponentError
from arbot.redaction import safe_repr

__all__ = ["ENTRY_POINT_GROUP", "KINDS", "ComponentInfo", "PluginFailure", "PluginHost"]

ENTRY_POINT_GROUP = "arbot"
TRACE_ENV = "ARBOT_TRACE_HOOKS"
DISABLE_ENV = "ARBOT_DISABLE_PLUGINS"

#: Component kinds, with the hook that registers each.
KINDS: dict[str, str] = {
    "connector": "arbot_register_connectors",
    "detector": "arbot_register_detectors",
    "risk_rule": "arbot_register_risk_rules",
    "executor": "arbot_register_executors",
    "sink": "arbot_register_sinks",
    "source": "arbot_register_sources",
}


@attrs.define(frozen=True)
class ComponentInfo:
    """A registered component class and where it came from."""

    kind: str
    name: str
    cls: type[Component]
    plugin: str
    package: str
    version: str
    description: str


@attrs.define(frozen=True)
class PluginFailure:
    """An entry point that could not be loaded."""

    entry_point: str
    package: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.entry_point!r} from package {self.package} failed to load: {self.error}"


def _distribution_of(module_name: str) -> tuple[str, str]:
    """(distribution name, version) owning ``module_name``; the module itself if none."""
    top = module_name.split(".")[0]
    dists = md.packages_distributions().get(top)
    if not dists:
        return (top, "")
    name = dists[0]
    try:
        return (name, md.version(name))
    except md.PackageNotFoundError:
        return (name, "")


def _core_distribution() -> tuple[str, str]:
    try:
        return ("arbot-core", md.version("arbot-core"))
    except md.PackageNotFoundError:
        from arbot import __version__

        return ("arbot-core", __version__)


class PluginHost:
    """The plugin manager of one bot, with its component registry.

    ``load_entry_points=False`` skips installed plugins (tests, embedded use); ``plugins`` are
    extra plugin objects or modules registered from code, e.g. by a script that defines its own
    detector.
    """

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        load_entry_points: bool = True,
        builtins: bool = True,
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        #: distribution (name, version) of each plugin loaded from an entry point
        self.plugin_packages: dict[str, tuple[str, str]] = {}
        self._undo_trace: Any = None
        if os.environ.get(TRACE_ENV):
            self._enable_tracing()
        if builtins:
            from arbot import _builtins

            self.pm.register(_builtins, name="arbot")
            self.plugin_packages["arbot"] = _core_distribution()
        if load_entry_points:
            self._load_entry_points()
        for i, plugin in enumerate(plugins):
            name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
            self.pm.register(plugin, name=name)
        self._registry: dict[str, dict[str, ComponentInfo]] | None = None
        self._decoders: dict[str, type[ReplayDecoder]] | None = None

    def _enable_tracing(self) -> None:
        def before(hook_name: str, hook_impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
            plugins = ", ".join(impl.plugin_name for impl in hook_impls)
            args = ", ".join(f"{k}={safe_repr(v)}" for k, v in kwargs.items())
            print(f"arbot hook: {hook_name}({args}) -> [{plugins}]", file=sys.stderr)

        def after(
            outcome: Result[Any], hook_name: str, hook_impls: Sequence[HookImpl], kwargs: Mapping[str, Any]
        ) -> None:
            exc = outcome.exception
            shown = f"raised {type(exc).__name__}" if exc is not None else safe_repr(outcome.get_result())
            print(f"arbot hook: {hook_name} returned {shown}", file=sys.stderr)

        self._undo_trace = self.pm.add_hookcall_monitoring(before, after)

    def _load_entry_points(self) -> None:
        disabled = {s.strip() for s in os.environ.get(DISABLE_ENV, "").split(",") if s.strip()}
        seen: set[str] = set()
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist
            package = f"{dist.metadata['Name']} {dist.version}" if dist is not None else ep.value
            if ep.name in disabled or ep.name in seen:
                continue
            seen.add(ep.name)
            try:
                plugin = ep.load()
                self.pm.register(plugin, name=ep.name)
                if dist is not None:
                    self.plugin_packages[ep.name] = (dist.metadata["Name"], dist.version)
            except Exception as exc:
                cause = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                self.failures.append(PluginFailure(ep.name, package, cause))

    # -- registry -------------------------------------------------------------------------

    def _collect(self) -> dict[str, dict[str, ComponentInfo]]:
        registry: dict[str, dict[str, ComponentInfo]] = {kind: {} for kind in KINDS}
        for kind, hook_name in KINDS.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                try:
                    classes = impl.function()
                except Exception as exc:
                    self._registration_failed(impl.plugin_name, hook_name, exc)
                    continue
                if self._undo_trace is not None:
                    print(
                        f"arbot hook: {hook_name} from {impl.plugin_name} -> {classes!r}",
                        file=sys.stderr,
                    )
                for cls in classes or ():
                    self._add(registry[kind], kind, cls, impl.plugin_name)
        return registry

    def _registration_failed(self, plugin: str, hook_name: str, exc: Exception) -> None:
        """A plugin's registration hook raised: record it with its package; the others load."""
        name, version = self.plugin_packages.get(plugin) or (plugin, "")
        package = f"{name} {version}".strip()
        cause = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.failures.append(PluginFailure(plugin, package, f"{hook_name} raised {cause}"))

    def _add(self, table: dict[str, ComponentInfo], kind: str, cls: type[Component], plugin: str) -> None:
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginConflictError(
                f"plugin {plugin!r} registered {cls!r} as a {kind} without a 'name' attribute"
            )
        package, version = self.plugin_packages.get(plugin) or _distribution_of(cls.__module__)
        summary = cls.description or (cls.__doc__ or "").strip().split("\n")[0]
        info = ComponentInfo(kind, name, cls, plugin, package, version, summary)
        other = table.get(name)
        if other is not None and other.cls is not cls:
            raise PluginConflictError(
                f"two plugins provide a {kind} named {name!r}: "
                f"{other.package} (plugin {other.plugin!r}, "
                f"{other.cls.__module__}.{other.cls.__qualname__}) and "
                f"{package} (plugin {plugin!r}, {cls.__module__}.{cls.__qualname__}); "
                f"uninstall one, or disable a plugin with {DISABLE_ENV}=<entry point name>"
            )
        table[name] = info

    @property
    def registry(self) -> dict[str, dict[str, ComponentInfo]]:
        """Every registered component, by kind then name (collected on first use)."""
        if self._registry is None:
            self._registry = self._collect()
        return self._registry

    def components(self, kind: str | None = None) -> list[ComponentInfo]:
        """Registered components, sorted by kind and name."""
        kinds = [kind] if kind is not None else list(KINDS)
        return [self.registry[k][n] for k in kinds for n in sorted(self.registry[k])]

    def resolve(self, kind: str, name: str) -> type[Component]:
        """The class registered as ``name`` of ``kind``, or a clear error listing what exists."""
        table = self.registry[kind]
        info = table.get(name)
        if info is not None:
            return info.cls
        available = ", ".join(sorted(table)) or "none"
        msg = f"no {kind} named {name!r} is installed; available: {available}"
        if self.failures:
            msg += "; plugins that failed to load: " + "; ".join(str(f) for f in self.failures)
        raise UnknownComponentError(msg)

    def decoders(self) -> dict[str, type[ReplayDecoder]]:
        """Replay decoder classes registered through ``arbot_register_decoders``, by venue.

        A registration hook that raises is recorded in :attr:`failures`; two plugins decoding
        one venue is an error naming both.
        """
        if self._decoders is None:
            found: dict[str, tuple[type[ReplayDecoder], str]] = {}
            for impl in self.pm.hook.arbot_register_decoders.get_hookimpls():
                try:
                    returned = impl.function() or ()
                except Exception as exc:
                    self._registration_failed(impl.plugin_name, "arbot_register_decoders", exc)
                    continue
                if not isinstance(returned, list | tuple):
                    raise PluginConflictError(
                        f"plugin {impl.plugin_name!r}: arbot_register_decoders must return a list of classes"
                    )
                for cls in returned:
                    if not (isinstance(cls, type) and issubclass(cls, ReplayDecoder)):
                        raise PluginConflictError(
                            f"plugin {impl.plugin_name!r} registered {cls!r}, which is not a ReplayDecoder"
                        )
                    if not cls.venue:
                        raise PluginConflictError(
                            f"plugin {impl.plugin_name!r} registered decoder {cls.__qualname__} "
                            "without a venue"
                        )
                    other = found.get(cls.venue)
                    if other is not None and other[0] is not cls:
                        raise PluginConflictError(
                            f"two plugins decode venue {cls.venue!r}: {other[1]} and {impl.plugin_name}"
                        )
                    found[cls.venue] = (cls, impl.plugin_name)
            self._decoders = {venue: cls for venue, (cls, _) in found.items()}
        return self._decoders

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register one more plugin (before the bot is built)."""
        self.pm.register(plugin, name=name)
        self._registry = None
        self._decoders = None

    @property
    def hook(self) -> Any:
        """The pluggy hook relay, for lifecycle hooks."""
        return self.pm.hook

    def plugin_modules(self) -> list[tuple[str, ModuleType | object]]:
        """Registered plugins as (name, object)."""
        return [(self.pm.get_name(p) or "?", p) for p in self.pm.get_plugins()]
