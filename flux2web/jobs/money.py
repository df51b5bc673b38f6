"""Where a job meets money, without the jobs app importing the ledger.

The team app plugs its ledger in when it starts (team/apps.py), beside its transition
hook: jobs ask it to lock a person's row, check their limits, reserve, move a
reservation to another price, and whether an admin settled a job's doubt.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from flux2web.providers.catalog import Problem


class Ledger(Protocol):
    def lock_person(self, user) -> None: ...

    def over_quota(
        self, user, *, price: Decimal, count: int, cost: Decimal | None = None
    ) -> list[Problem]: ...

    def reserve(self, jobs: list) -> None: ...

    def reprice(self, job_id: int, price: Decimal, *, provider=None) -> str: ...

    def resolved(self, job_id: int) -> bool: ...


_ledger: Ledger | None = None


def use(ledger: Ledger) -> None:
    global _ledger
    _ledger = ledger


def ledger() -> Ledger:
    if _ledger is None:
        raise ImproperlyConfigured("No ledger plugged in: is flux2web.team installed?")
    return _ledger
