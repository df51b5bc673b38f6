"""The job's life in one table: its states, the moves allowed between them, and their groups."""

from __future__ import annotations

from django.db import models


class State(models.TextChoices):
    QUEUED = "queued"
    SUBMITTING = "submitting"
    RUNNING = "running"
    MIRRORING = "mirroring"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNCERTAIN = "uncertain"
    TIMED_OUT = "timed_out", "Timed out"


# Every move a job may make, from-state -> to-states. `transitions.transition()` refuses
# any other; a new state or move starts here.
ALLOWED: dict[str, frozenset[str]] = {
    # Claimed by a submit task, or cancelled before anything was sent.
    State.QUEUED: frozenset({State.SUBMITTING, State.CANCELLED}),
    # Accepted; back to the queue (paused, no room, refused, worker lost before sending);
    # refused for good; the create's answer was lost (it may have been charged); or the
    # person cancelled while it was being readied, and nothing was sent.
    State.SUBMITTING: frozenset(
        {State.RUNNING, State.QUEUED, State.FAILED, State.UNCERTAIN, State.CANCELLED}
    ),
    State.RUNNING: frozenset(
        {State.MIRRORING, State.FAILED, State.CANCELLED, State.UNCERTAIN, State.TIMED_OUT}
    ),
    State.MIRRORING: frozenset({State.SUCCEEDED, State.FAILED}),
    # Its task found after all (transitions.adopt): a callback named the lost or forgotten
    # task and the provider confirmed it, or the create's answer came after the lease.
    State.UNCERTAIN: frozenset({State.RUNNING}),
    State.SUCCEEDED: frozenset(),
    State.FAILED: frozenset(),
    State.CANCELLED: frozenset(),
    State.TIMED_OUT: frozenset(),
}

# Groups the rest of the code asks about, read off the table where they can be.
FINAL = tuple(s for s in State if not ALLOWED[s])
# Not final, yet nothing of ours moves it on: it waits for an admin (or a callback).
PARKED = (State.UNCERTAIN,)
IN_FLIGHT = tuple(s for s in State if s not in FINAL and s not in PARKED)
# Nothing has reached a provider yet.
WAITING = (State.QUEUED, State.SUBMITTING)
# Where a person's "cancel" is a move the table allows.
CANCELLABLE = tuple(s for s in State if State.CANCELLED in ALLOWED[s])
# Ended without images: the person may try again (as a new job; this one stays as it is).
RETRYABLE = tuple(s for s in FINAL if s != State.SUCCEEDED)
# Only ended jobs are deleted (their row stays as the record of what was spent).
DELETABLE = FINAL
# Ended badly or in doubt: the page says what went wrong and what to do.
SHOWS_ERROR = (State.FAILED, State.TIMED_OUT, State.UNCERTAIN)
# A move into one of these leaves nothing to poll.
STOPS_POLLING = (*FINAL, State.UNCERTAIN)


class IllegalTransition(Exception):
    """A move the table does not allow: a bug in the caller, not a race."""


def allowed(from_state: str, to: str) -> bool:
    return to in ALLOWED.get(from_state, ())
