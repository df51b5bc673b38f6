"""The `kie` dialect: KIE.ai's market API and its clones (Apikley and others)."""

from flux2web.providers.catalog import Dialect
from flux2web.providers.dialects.kie.capabilities import CREATE_LIMIT, MODELS
from flux2web.providers.dialects.kie.client import KieClient
from flux2web.providers.dialects.kie.sandbox import KieSandbox

DIALECT = Dialect(
    name="kie",
    label="KIE.ai market API (and clones such as Apikley)",
    models=MODELS,
    client=KieClient,
    create_limit=CREATE_LIMIT,
    sandbox=(KieSandbox("kie"), KieSandbox("apikley", strict=True)),
    sandbox_name="Sandbox KIE",
)
