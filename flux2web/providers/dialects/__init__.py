"""The dialects the product speaks: one folder each (its client, its capabilities and
prices, how the sandbox stands in for it) and one line in BUILT_IN. The catalog, the
clients, the sandbox's mounts and the sandbox providers of a fresh install all read what
is registered here; docs/architecture.md says how to add one."""

from flux2web.providers import catalog
from flux2web.providers.dialects import apimart, apixo, kie, liangxin

BUILT_IN = (kie, liangxin, apixo, apimart)

for module in BUILT_IN:
    catalog.register(module.DIALECT)
