"""Building the plugin manager of one inventory.

Each :func:`stockkit.open` builds its own :class:`pluggy.PluginManager`, so plugins never
leak from one inventory (or one test) into another, and nothing is loaded at import time.
Built-in plugins come first, then plugins installed under the ``stockkit`` entry-point
group, then the plugins passed to :func:`stockkit.open`.

Autoloading of entry points is on unless ``autoload=False`` is passed or the environment
variable ``STOCKKIT_DISABLE_PLUGIN_AUTOLOAD`` is set to a non-empty value. A plugin is
blocked by name (its entry-point name, or the module name of a built-in) through
``blocked_plugins`` or the comma-separated ``STOCKKIT_BLOCKED_PLUGINS`` variable.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pluggy

from stockkit import hookspecs
from stockkit.errors import PluginError, UnknownBackend, UnknownPluginKey
from stockkit.store import Store

__all__ = [
    "AUTOLOAD_ENV",
    "BLOCKED_ENV",
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "LowStockAction",
    "backend_factories",
    "implementations",
    "inventory_engines",
    "low_stock_actions",
    "make_plugin_manager",
    "open_store",
    "require_key",
]

#: The entry-point group third-party plugins are published under.
ENTRY_POINT_GROUP = "stockkit"
#: Modules of the built-in plugins, registered under their module name.
DEFAULT_PLUGINS = (
    "stockkit.backends.memory",
    "stockkit.backends.sqlite",
    "stockkit.backends.postgres",
    "stockkit.default_plugins.engine",
    "stockkit.default_plugins.unpublish",
    "stockkit.default_plugins.estimator",
)
#: Set to a non-empty value to stop loading plugins from entry points.
AUTOLOAD_ENV = "STOCKKIT_DISABLE_PLUGIN_AUTOLOAD"
#: Comma-separated names of plugins never to register.
BLOCKED_ENV = "STOCKKIT_BLOCKED_PLUGINS"


def make_plugin_manager(
    plugins: Iterable[object] = (),
    *,
    autoload: bool | None = None,
    blocked: Iterable[str] = (),
) -> pluggy.PluginManager:
    """Return a new plugin manager with the built-in, installed and given plugins.

    ``autoload=None`` follows the ``STOCKKIT_DISABLE_PLUGIN_AUTOLOAD`` variable.
    """
    manager = pluggy.PluginManager("stockkit")
    manager.add_hookspecs(hookspecs)
    names = set(blocked)
    names.update(n.strip() for n in os.environ.get(BLOCKED_ENV, "").split(",") if n.strip())
    for name in names:
        manager.set_blocked(name)
    for module_name in DEFAULT_PLUGINS:
        if not manager.is_blocked(module_name):
            manager.register(importlib.import_module(module_name), name=module_name)
    if autoload is None:
        autoload = not os.environ.get(AUTOLOAD_ENV)
    if autoload:
        try:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken third-party plugin must say which one
            raise PluginError(
                f"loading plugins of the {ENTRY_POINT_GROUP!r} entry-point group failed: {exc!r}; "
                f"block the plugin by name with {BLOCKED_ENV} or set {AUTOLOAD_ENV}=1"
            ) from exc
    for plugin in plugins:
        _register_given(manager, plugin)
    return manager


def _register_given(manager: pluggy.PluginManager, plugin: object) -> None:
    """Register a plugin passed to :func:`stockkit.open`. The very same object registered
    already (a built-in such as ``stockkit.backends.sqlite``, an installed plugin, or one
    given twice) is skipped: it is in. Another object under a registered name is a
    :class:`~stockkit.errors.PluginError`."""
    if manager.is_registered(plugin):
        return
    name = manager.get_canonical_name(plugin)
    if manager.has_plugin(name):
        raise PluginError(
            f"another plugin is registered under the name {name!r} already: {manager.get_plugin(name)!r}, "
            f"so {plugin!r} cannot be too (a reloaded module is a new object); pass the registered one, or "
            f"give the new plugin another name (a module's name, a class instance's id)"
        )
    try:
        manager.register(plugin)
    except (ValueError, pluggy.PluginValidationError) as exc:  # pluggy's checks of the implementations
        raise PluginError(f"plugin {name!r} cannot be registered: {exc}") from exc


def backend_factories(manager: pluggy.PluginManager) -> dict[str, hookspecs.BackendFactory]:
    """Collect the storage backends the registered plugins offer, by URL scheme."""
    factories: dict[str, hookspecs.BackendFactory] = {}

    def register(scheme: str, factory: hookspecs.BackendFactory) -> None:
        if not isinstance(scheme, str) or not scheme:
            raise PluginError(f"a backend scheme must be a non-empty string, got {scheme!r}")
        # pluggy calls the most recently registered plugin first, so keeping the first
        # registration of a scheme lets later plugins override earlier ones.
        factories.setdefault(scheme.lower(), factory)

    manager.hook.stockkit_register_backends(register=register)
    return factories


def open_store(manager: pluggy.PluginManager, url: str) -> Store:
    """Open the store that the backend registered for ``url``'s scheme provides."""
    if not isinstance(url, str) or "://" not in url:
        raise UnknownBackend(f"a store URL looks like 'memory://' or 'sqlite:///shop.db', got {url!r}")
    scheme = url.split("://", 1)[0].lower()
    factories = backend_factories(manager)
    if scheme not in factories:
        known = ", ".join(sorted(f"{s}://" for s in factories)) or "none"
        raise UnknownBackend(
            f"no storage backend is registered for {scheme}:// (known: {known}); "
            f"install the plugin that provides it"
        )
    return factories[scheme](url)


@attrs.frozen
class LowStockAction:
    """A low-stock action as a plugin registered it (see
    :func:`~stockkit.hookspecs.stockkit_register_low_stock_actions`)."""

    key: str
    label: str
    priority: int
    run: hookspecs.LowStockActionFunction = attrs.field(eq=False, repr=False)


def implementations(hook: Any) -> list[tuple[str, Callable[..., Any]]]:
    """``(plugin name, call)`` of a hook's implementations in the order pluggy calls them
    (the plugin registered last first, ``tryfirst`` before, ``trylast`` after), for
    callers that must go on past an implementation that raises. ``call(**arguments)``
    passes an implementation the hook arguments it asks for, as pluggy does."""
    return [(impl.plugin_name, _caller(impl)) for impl in reversed(hook.get_hookimpls())]


def _caller(impl: Any) -> Callable[..., Any]:
    def call(**arguments: Any) -> Any:
        return impl.function(*[arguments[name] for name in impl.argnames])

    return call


def _check_key(key: object, what: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise PluginError(f"a {what} key must be a non-empty string, got {key!r}")
    return key.strip()


def _register_in_order(hook: Any, register: Callable[..., None]) -> None:
    # Registration order: built-ins first, plugins passed to open() last, so that a key
    # registered again (by a later plugin, or later by the same one) replaces the old one.
    for _, function in reversed(implementations(hook)):
        function(register=register)


def low_stock_actions(manager: pluggy.PluginManager) -> dict[str, LowStockAction]:
    """The registered low-stock actions by key, lower priority (then key) first."""
    found: dict[str, LowStockAction] = {}

    def register(key: str, action: hookspecs.LowStockActionFunction, *, label: str = "", priority: int = 0) -> None:
        key = _check_key(key, "low-stock action")
        if not callable(action):
            raise PluginError(f"the low-stock action {key!r} must be callable, got {action!r}")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise PluginError(f"the priority of low-stock action {key!r} must be an int, got {priority!r}")
        found[key] = LowStockAction(key, str(label) or key, priority, action)

    _register_in_order(manager.hook.stockkit_register_low_stock_actions, register)
    return {a.key: a for a in sorted(found.values(), key=lambda a: (a.priority, a.key))}


def inventory_engines(manager: pluggy.PluginManager) -> dict[str, hookspecs.InventoryEngine]:
    """The registered inventory engines by key."""
    found: dict[str, hookspecs.InventoryEngine] = {}

    def register(key: str, engine: hookspecs.InventoryEngine) -> None:
        key = _check_key(key, "inventory engine")
        if not callable(engine):
            raise PluginError(f"the inventory engine {key!r} must be callable, got {engine!r}")
        found[key] = engine

    _register_in_order(manager.hook.stockkit_register_inventory_engines, register)
    return found


def require_key(registered: dict[str, Any], kind: str, key: str) -> Any:
    """The plugin object registered under ``key``; :class:`~stockkit.errors.UnknownPluginKey`
    naming the known keys when there is none."""
    try:
        return registered[key]
    except KeyError:
        raise UnknownPluginKey(kind, key, sorted(registered)) from None
