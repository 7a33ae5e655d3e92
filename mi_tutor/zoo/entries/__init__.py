"""Zoo entries: importing this package registers every module in it.

Add a model family by adding a module here that calls ``register(ZooEntry(...))``.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
