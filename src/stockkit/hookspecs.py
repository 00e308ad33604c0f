"""Every hook stockkit calls, with when it is called, what it receives and what it returns.

Plugins implement these with :data:`stockkit.hookimpl`. Built-in behaviour (the memory
store, for one) is registered exactly like a third-party plugin, and third-party plugins
are found through the ``stockkit`` entry-point group (see :mod:`stockkit.plugins`).
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from stockkit.store import Store

__all__ = ["hookspec", "hookimpl", "BackendFactory", "stockkit_register_backends"]

#: Marks a function in this module as a hook specification.
hookspec = pluggy.HookspecMarker("stockkit")
#: Marks a plugin's function as the implementation of a stockkit hook.
hookimpl = pluggy.HookimplMarker("stockkit")

#: The callable a backend registers, ``factory(url) -> Store``, which opens a store for
#: a URL. The URL is the one given to
#: :func:`stockkit.open`, scheme included.
BackendFactory = Callable[[str], Store]


@hookspec
def stockkit_register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    """Register storage backends by URL scheme.

    Called once per :func:`stockkit.open`, before the store is opened. Call
    ``register(scheme, factory)`` for each scheme the plugin serves (``"memory"`` for
    ``memory://``); ``factory(url)`` must return an object that implements
    :class:`stockkit.store.Store`. When several plugins register a scheme, the one
    registered last wins (plugins passed to :func:`stockkit.open` over installed ones,
    installed ones over built-ins), so a plugin can override a built-in backend.
    Return nothing.
    """
