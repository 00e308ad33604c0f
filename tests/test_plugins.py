"""Plugins: storage backends by URL scheme, blocking, autoloading, one manager per inventory."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pluggy
import pytest

import stockkit
from stockkit import hookspecs
from stockkit.backends.memory import MemoryStore
from stockkit.errors import PluginError, UnknownBackend, UnknownPluginKey
from stockkit.plugins import AUTOLOAD_ENV, BLOCKED_ENV, ENTRY_POINT_GROUP


class CountingStore(MemoryStore):
    """A memory store that counts its transactions."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.transactions = 0

    def transaction(self, **options):  # type: ignore[override]
        self.transactions += 1
        return super().transaction(**options)


class CountingPlugin:
    """Serves ``counting://`` with a :class:`CountingStore` and remembers what it opened."""

    def __init__(self, scheme: str = "counting") -> None:
        self.scheme = scheme
        self.opened: list[CountingStore] = []

    def _open(self, url: str) -> CountingStore:
        store = CountingStore(url)
        self.opened.append(store)
        return store

    @stockkit.hookimpl
    def stockkit_register_backends(self, register):
        register(self.scheme, self._open)


def known_schemes(error: pytest.ExceptionInfo[UnknownBackend]) -> set[str]:
    """The schemes an UnknownBackend message lists as known."""
    match = re.search(r"\(known: ([^)]*)\)", str(error.value))
    assert match, f"the message lists no known schemes: {error.value}"
    return set() if match.group(1) == "none" else set(match.group(1).split(", "))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    monkeypatch.delenv(BLOCKED_ENV, raising=False)


@pytest.fixture
def autoload_calls(monkeypatch):
    """Calls of ``load_setuptools_entrypoints`` (which is stubbed out) as their group names."""
    calls: list[str] = []

    def record(self, group, name=None):
        calls.append(group)
        return 0

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", record)
    return calls


# -- backends by scheme ------------------------------------------------------------------


def test_an_unknown_scheme_lists_the_known_ones():
    with pytest.raises(UnknownBackend, match=r"no storage backend is registered for nosuch://") as error:
        stockkit.open("nosuch://shop", autoload_plugins=False)

    assert "memory://" in known_schemes(error)
    assert "nosuch://" not in known_schemes(error)


@pytest.mark.parametrize("url", ["memory", "", "shop.db", None])
def test_a_url_without_a_scheme_is_refused(url):
    with pytest.raises(UnknownBackend):
        stockkit.open(url, autoload_plugins=False)


def test_the_scheme_is_case_insensitive():
    inv = stockkit.open("MEMORY://", autoload_plugins=False)

    assert inv.create_warehouse("ams", "Amsterdam").code == "ams"


def test_a_plugin_adds_a_backend():
    plugin = CountingPlugin()

    inv = stockkit.open("counting://shop", plugins=[plugin], autoload_plugins=False)

    (store,) = plugin.opened
    assert store.url == "counting://shop"
    before = store.transactions
    inv.create_warehouse("ams", "Amsterdam")
    after_create = store.transactions
    inv.set_level("A", "ams", on_hand=3)

    assert before < after_create < store.transactions
    assert inv.level("A", "ams").on_hand == 3


def test_the_unknown_backend_message_lists_plugin_schemes_too():
    with pytest.raises(UnknownBackend) as error:
        stockkit.open("nosuch://", plugins=[CountingPlugin()], autoload_plugins=False)

    assert {"counting://", "memory://"} <= known_schemes(error)
    assert re.search(r"known: ([^)]*)", str(error.value)).group(1).split(", ") == sorted(known_schemes(error))


def test_a_plugin_can_override_a_built_in_backend():
    plugin = CountingPlugin("memory")

    inv = stockkit.open("memory://", plugins=[plugin], autoload_plugins=False)
    inv.create_warehouse("ams", "Amsterdam")

    assert len(plugin.opened) == 1
    assert plugin.opened[0].transactions >= 1
    assert [w.code for w in inv.warehouses()] == ["ams"]


def test_a_plugin_module_or_object_with_a_function_works():
    class Module:
        @staticmethod
        @stockkit.hookimpl
        def stockkit_register_backends(register):
            register("ram", lambda url: MemoryStore())

    inv = stockkit.open("ram://", plugins=[Module], autoload_plugins=False)

    assert inv.warehouses() == []


@pytest.mark.parametrize("scheme", ["", None, 5])
def test_a_plugin_registering_a_bad_scheme_is_a_plugin_error(scheme):
    with pytest.raises(PluginError, match="scheme"):
        stockkit.open("memory://", plugins=[CountingPlugin(scheme)], autoload_plugins=False)


def test_each_open_gets_a_new_store():
    one = stockkit.open(autoload_plugins=False)
    two = stockkit.open(autoload_plugins=False)

    one.create_warehouse("ams", "Amsterdam")

    assert two.warehouses() == []


# -- blocking ----------------------------------------------------------------------------


def test_blocking_the_memory_backend_makes_memory_unknown():
    with pytest.raises(UnknownBackend, match="no storage backend is registered for memory://") as error:
        stockkit.open("memory://", blocked_plugins=["stockkit.backends.memory"], autoload_plugins=False)

    assert "memory://" not in known_schemes(error)


def test_blocking_the_memory_backend_keeps_other_backends():
    inv = stockkit.open("counting://", plugins=[CountingPlugin()],
                        blocked_plugins=["stockkit.backends.memory"], autoload_plugins=False)

    assert inv.plugins.is_blocked("stockkit.backends.memory")
    assert inv.plugins.get_plugin("stockkit.backends.memory") is None
    with pytest.raises(UnknownBackend) as error:
        stockkit.open("memory://", plugins=[CountingPlugin()],
                      blocked_plugins=["stockkit.backends.memory"], autoload_plugins=False)
    assert "counting://" in known_schemes(error)
    assert "memory://" not in known_schemes(error)


def test_the_blocked_plugins_variable_blocks_too(monkeypatch):
    monkeypatch.setenv(BLOCKED_ENV, " some.other.plugin , stockkit.backends.memory ")

    with pytest.raises(UnknownBackend) as error:
        stockkit.open("memory://", autoload_plugins=False)

    assert "memory://" not in known_schemes(error)


def test_an_empty_blocked_plugins_variable_blocks_nothing(monkeypatch):
    monkeypatch.setenv(BLOCKED_ENV, " , ")

    assert stockkit.open("memory://", autoload_plugins=False).warehouses() == []


# -- one plugin manager per inventory ----------------------------------------------------


def test_each_inventory_has_its_own_plugin_manager():
    plugin = CountingPlugin()

    mine = stockkit.open("counting://", plugins=[plugin], autoload_plugins=False)
    other = stockkit.open("memory://", autoload_plugins=False)

    assert mine.plugins is not other.plugins
    assert plugin in mine.plugins.get_plugins()
    assert plugin not in other.plugins.get_plugins()
    with pytest.raises(UnknownBackend):
        stockkit.open("counting://", autoload_plugins=False)


def test_the_built_in_backend_is_registered_under_its_module_name():
    inv = stockkit.open(autoload_plugins=False)

    assert inv.plugins.get_plugin("stockkit.backends.memory") is not None
    assert inv.plugins.project_name == "stockkit"


def test_a_built_in_passed_again_is_registered_once():
    import stockkit.backends.sqlite

    inv = stockkit.open("memory://", plugins=[stockkit.backends.sqlite], autoload_plugins=False)

    names = [name for name, _ in inv.plugins.list_name_plugin()]
    assert names.count("stockkit.backends.sqlite") == 1
    assert len(names) == len(stockkit.open(autoload_plugins=False).plugins.get_plugins())


def test_a_plugin_passed_twice_is_registered_once_and_runs_once():
    plugin = CountingPlugin()

    inv = stockkit.open("counting://", plugins=[plugin, plugin], autoload_plugins=False)

    assert sum(p is plugin for p in inv.plugins.get_plugins()) == 1
    assert [store.url for store in plugin.opened] == ["counting://"]


def test_another_object_under_a_registered_name_is_a_plugin_error():
    import types

    impostor = types.ModuleType("stockkit.backends.sqlite")

    with pytest.raises(PluginError, match=r"registered under the name 'stockkit.backends.sqlite' already"):
        stockkit.open("memory://", plugins=[impostor], autoload_plugins=False)


def test_an_implementation_pluggy_refuses_is_a_plugin_error():
    class Wrong:
        @stockkit.hookimpl
        def stockkit_register_backends(self, register, extra):  # an argument the hook has not
            """Never called."""

    with pytest.raises(PluginError, match="cannot be registered"):
        stockkit.open("memory://", plugins=[Wrong()], autoload_plugins=False)


# -- autoloading entry points ------------------------------------------------------------


def test_autoload_loads_the_stockkit_entry_point_group(autoload_calls):
    stockkit.open("memory://")
    stockkit.open("memory://", autoload_plugins=True)

    assert autoload_calls == [ENTRY_POINT_GROUP, ENTRY_POINT_GROUP] == ["stockkit", "stockkit"]


def test_autoload_false_loads_no_entry_points(autoload_calls):
    stockkit.open("memory://", autoload_plugins=False)

    assert autoload_calls == []


def test_the_disable_autoload_variable_stops_autoloading(monkeypatch, autoload_calls):
    monkeypatch.setenv(AUTOLOAD_ENV, "1")

    stockkit.open("memory://")
    assert autoload_calls == []

    # an explicit argument wins over the variable
    stockkit.open("memory://", autoload_plugins=True)
    assert autoload_calls == ["stockkit"]


def test_a_broken_installed_plugin_is_a_plugin_error_that_says_what_to_do(monkeypatch):
    def broken(self, group, name=None):
        raise ImportError("No module named 'stockkit_broken'")

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", broken)

    with pytest.raises(PluginError, match=f"stockkit_broken.*{BLOCKED_ENV}.*{AUTOLOAD_ENV}=1"):
        stockkit.open("memory://")


# -- the hook specifications -------------------------------------------------------------


def _hook_specs():
    return [
        (name, function)
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, "stockkit_spec")
    ]


def test_there_are_hook_specs():
    assert "stockkit_register_backends" in dict(_hook_specs())


@pytest.mark.parametrize(("name", "function"), _hook_specs())
def test_every_hook_is_documented_and_named_stockkit_something(name, function):
    assert name.startswith("stockkit_")
    doc = inspect.getdoc(function) or ""
    assert len(doc.strip()) > 80, f"hook {name} needs a docstring that says when it is called and what it gets"


def test_every_hook_spec_is_known_to_an_inventorys_manager():
    inv = stockkit.open(autoload_plugins=False)

    hook_names = {name for name in dir(inv.plugins.hook) if name.startswith("stockkit_")}
    assert hook_names >= {name for name, _ in _hook_specs()}


# -- every hook has a family page with a worked example ----------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs"
#: The documentation page of each hook family, and the hooks in it.
HOOK_FAMILIES = {
    "plugins-backends.md": {"stockkit_register_backends"},
    "plugins-low-stock.md": {"stockkit_register_low_stock_actions", "stockkit_stock_event",
                             "stockkit_plugin_failed"},
    "plugins-estimators.md": {"stockkit_estimate_availability"},
    "plugins-engines.md": {"stockkit_register_inventory_engines"},
}


def test_every_hook_belongs_to_a_documented_family():
    families = set().union(*HOOK_FAMILIES.values())

    assert families == {name for name, _ in _hook_specs()}, (
        "a hook spec has no family page (or a page names a hook that is gone): add it to HOOK_FAMILIES "
        "and document it with a worked example"
    )


@pytest.mark.parametrize(("page", "hooks"), sorted(HOOK_FAMILIES.items()))
def test_each_family_page_implements_its_hooks_in_a_worked_example(page, hooks):
    text = (DOCS / page).read_text(encoding="utf-8")
    examples = "\n".join(re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL))

    for hook in sorted(hooks):
        assert re.search(rf"^\s*def {hook}\(", examples, re.MULTILINE), f"{page}: no worked example implements {hook}"
        assert f"autofunction:: stockkit.hookspecs.{hook}" in text, f"{page}: the reference of {hook} is missing"
    assert page.removesuffix(".md") in (DOCS / "plugins.md").read_text(encoding="utf-8")


def test_the_built_ins_are_ordinary_plugins():
    inv = stockkit.open(autoload_plugins=False)

    for name in ("stockkit.default_plugins.engine", "stockkit.default_plugins.unpublish",
                 "stockkit.default_plugins.estimator", "stockkit.backends.memory"):
        assert inv.plugins.has_plugin(name)
    blocked = stockkit.open(autoload_plugins=False, blocked_plugins=["stockkit.default_plugins.engine"])
    assert blocked.inventory_engines() == []
    with pytest.raises(UnknownPluginKey, match="inventory engine 'default'"):
        blocked.create_product("tee", "T-shirt")


@pytest.mark.parametrize("key", ["", "  ", None, 5])
def test_a_plugin_registering_a_bad_key_is_a_plugin_error(key):
    class Bad:
        @stockkit.hookimpl
        def stockkit_register_low_stock_actions(self, register):
            register(key, lambda inventory, event: None)

    with pytest.raises(PluginError, match="low-stock action key must be a non-empty string"):
        stockkit.open(plugins=[Bad()], autoload_plugins=False).low_stock_actions()
