"""The `apimart` dialect: APIMart-style gateways (/v1/images/generations, /v1/tasks/{id})."""

from flux2web.providers.catalog import Dialect
from flux2web.providers.dialects.apimart.capabilities import MODELS
from flux2web.providers.dialects.apimart.client import ApimartClient
from flux2web.providers.dialects.apimart.sandbox import ApimartSandbox

DIALECT = Dialect(
    name="apimart",
    label="APIMart-style gateway",
    models=MODELS,
    client=ApimartClient,
    sandbox=(ApimartSandbox(),),
    sandbox_name="Sandbox APIMart",
)
