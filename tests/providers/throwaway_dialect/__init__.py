"""A dialect that exists only in the tests: the whole of what adding one takes, in one
folder, registered by the test that needs it and by nothing else."""

from flux2web.providers.catalog import Dialect
from tests.providers.throwaway_dialect.capabilities import MODELS
from tests.providers.throwaway_dialect.client import ThrowawayClient
from tests.providers.throwaway_dialect.sandbox import ThrowawaySandbox

DIALECT = Dialect(
    name="throwaway",
    label="Throwaway (tests only)",
    models=MODELS,
    client=ThrowawayClient,
    sandbox=(ThrowawaySandbox(),),
    sandbox_name="Sandbox Throwaway",
)
