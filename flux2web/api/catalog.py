"""The API's model ids (`flux-2-pro`, `flux-2-flex`) and the catalog's models they stand
for: the one place /v1/models and the endpoints that take a `model` read them."""

from __future__ import annotations

from dataclasses import dataclass

from flux2web.credentials.models import ProviderCredential
from flux2web.providers.types import Model


@dataclass(frozen=True)
class ApiModel:
    id: str
    model: Model
    created: int  # Unix time, as OpenAI lists it: FLUX.2's release, 25 November 2025

    def as_json(self) -> dict:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": OWNER}


OWNER = "flux2web"
RELEASED = 1764028800
MODELS = (
    ApiModel("flux-2-pro", Model.PRO, RELEASED),
    ApiModel("flux-2-flex", Model.FLEX, RELEASED),
)
BY_ID = {m.id: m for m in MODELS}


def model_for(api_id: str) -> Model | None:
    """The catalog's model an API id names, or None for an id we do not know."""
    found = BY_ID.get(api_id)
    return found.model if found else None


def available() -> list[ApiModel]:
    """The models some enabled provider can make now, in the order above."""
    providers = list(ProviderCredential.objects.enabled())
    return [m for m in MODELS if any(_offers(p, m.model) for p in providers)]


def _offers(provider: ProviderCredential, model: Model) -> bool:
    try:
        return provider.offers(model)
    except KeyError:  # a dialect no longer registered (its folder removed) offers nothing
        return False
