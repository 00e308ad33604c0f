"""stockkit's built-in plugins, registered like third-party ones (see
:data:`stockkit.plugins.DEFAULT_PLUGINS`): the ``"default"`` inventory engine, the
``"unpublish"`` low-stock action and the default availability estimator. Block one by its
module name to do without it."""
