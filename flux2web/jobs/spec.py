"""What a person asks for before it becomes one job per image, and why it may be refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flux2web.credentials.models import ProviderCredential
from flux2web.providers import catalog
from flux2web.providers.types import (
    GenerationRequest,
)


class JobRefused(Exception):
    """The request cannot be queued; `problems` say why, each naming its field."""

    def __init__(self, problems: list[catalog.Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class JobSpec:
    """What a person asked for, before it becomes one job per image."""

    request: GenerationRequest
    provider: ProviderCredential | None = None
    count: int = 1
    # Draw a seed per job (so a batch is not four copies, and each can be rerun exactly).
    random_seed: bool = False
    # Reference URLs this site signed itself (uploads, re-signed links): they lead to us,
    # so the address rule for URLs people give does not apply to them.
    trusted_references: frozenset[str] = frozenset()
    # None: the person's own choice for new images, else the team's default.
    team_visible: bool | None = None
    # The image this is a remix of (the caller checked that the person may see it).
    remix_of_id: int | None = None
    # Pasted reference URLs already fetched and found fit (by the form): not fetched again.
    fetched_references: frozenset[str] = frozenset()

    def visible_for(self, owner) -> bool:
        return owner.new_images_team_visible if self.team_visible is None else self.team_visible


class Attachments(Protocol):
    """Files that come with a request (uploaded references), stored only once it is
    accepted, in the transaction that creates its jobs."""

    def store(self, spec: JobSpec) -> JobSpec:
        """Write the files and their rows; the spec that refers to them."""

    def discard(self) -> None:
        """Remove the files `store` wrote (their rows roll back with the transaction)."""
