"""The `apixo` dialect: Apixo's generateTask/statusTask API for FLUX.2."""

from flux2web.providers.catalog import Dialect
from flux2web.providers.dialects.apixo.capabilities import MODELS
from flux2web.providers.dialects.apixo.client import ApixoClient
from flux2web.providers.dialects.apixo.sandbox import ApixoSandbox

DIALECT = Dialect(
    name="apixo",
    label="Apixo",
    models=MODELS,
    client=ApixoClient,
    sandbox=(ApixoSandbox(),),
    sandbox_name="Sandbox Apixo",
)
