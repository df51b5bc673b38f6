"""Typed values every dialect speaks: a request, a submission, a status, and the error family."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class Model(enum.StrEnum):
    PRO = "pro"
    FLEX = "flex"


@dataclass(frozen=True)
class GenerationRequest:
    """What a user asked for, in the product's words; each dialect translates it."""

    model: Model
    prompt: str
    aspect_ratio: str | None = None
    width: int | None = None
    height: int | None = None
    resolution: str | None = None
    seed: int | None = None
    prompt_upsampling: bool = False
    # What only some vendors take, by name, each defined once as a catalog.Option in the
    # capabilities of the dialects that send it; only values other than the default.
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    reference_urls: tuple[str, ...] = ()
    callback_url: str | None = None

    @property
    def is_image_to_image(self) -> bool:
        return bool(self.reference_urls)


# The largest seed any dialect takes (an unsigned 32-bit number).
SEED_MAX = 2**32 - 1
# No provider draws a side longer than this; a bigger number is a mistake, not a choice.
SIDE_MAX = 16384


@dataclass(frozen=True)
class Shared:
    """One field of GenerationRequest that every dialect shares: how people set it, which
    providers take it, what survives a change of provider, and how a job shows it.

    The studio form's field (studio/forms.SharedFields) and the `generate` command's flag
    are made from it. `kind` is the control and so the type: "choice" (text picked from the
    chosen provider's list, blank for none), "number" (a whole number, within low..high
    where given) or "switch" (on or off).

    Which providers take it, and what becomes of a value when the provider changes
    (studio/forms.py: shown_fields, carried_over, drop_unsupported), is read from the
    provider's catalog.Capabilities by attribute name: `taken_by` is true where the
    provider takes the field (blank: every provider does); a choice lists its values in
    `choices` and falls back to `default` (blank: the first of them) where a carried value
    is not offered.
    """

    name: str
    label: str
    flag: str
    kind: str
    help: str = ""  # the command's; beside the form's field the help follows the provider
    low: int | None = None
    high: int | None = None
    taken_by: str = ""
    choices: str = ""
    default: str = ""
    upper: bool = False  # compared in capitals, as the catalog lists it ("2k" is 2K)
    # Carried to another provider only while this field is blank (a size, not a ratio).
    only_without: str = ""
    # Dropped together when the provider takes none of them; the notice names them all.
    together: tuple[str, ...] = ()
    # The notices: {who} is the provider, {value} what was asked, {instead} what is used;
    # a name in `together` is that field's value ("?" where blank).
    dropped: str = ""
    replaced: str = ""
    blank: str = ""  # how a blank value is named in a notice
    # The job page's Parameters: the label and value of this field (None: shown within
    # another's, as width and height are in the size), and a muted note after it.
    fact: str = ""
    shown: Callable[[Any], str | None] | None = None
    note: Callable[[Any], str] | None = None
    # The card's meta line: this field's words there, or None (studio/views.CARD_FIELDS
    # must load the columns it reads).
    card: Callable[[Any], str | None] | None = None

    def taken(self, caps: Any) -> bool:
        return not self.taken_by or bool(getattr(caps, self.taken_by))

    def tidy(self, value: Any) -> str:
        value = value or ""
        return value.upper() if self.upper else value

    def stale(self, value: str, known: set[str]) -> bool:
        """Whether a value some provider would take, so a stale choice to drop rather than
        a mistake the form must name."""
        if self.kind == "switch":
            return True
        if self.kind == "number":
            value = (value or "").strip()
            low = 1 if self.low is None else self.low
            high = SIDE_MAX if self.high is None else self.high
            return value.isascii() and value.isdigit() and low <= int(value) <= high
        return self.tidy(value) in known


def _size(job) -> str:
    return job.size_label + (f" · {job.resolution}" if job.resolution else "")


# The prompt and the model are left out: the prompt also comes from a file, one per line,
# and the models offered follow the provider, so the form and the command each say theirs.
SHARED_FIELDS = (
    Shared(
        "aspect_ratio",
        "Aspect ratio",
        "--aspect-ratio",
        "choice",
        choices="aspect_ratios",
        default="default_ratio",
        replaced="{who} does not take aspect ratio {value}; {instead} is used instead.",
        blank="its default size",
        fact="Size",  # with width and height, and the resolution
        shown=_size,
        card=_size,
    ),
    Shared(
        "width",
        "Width",
        "--width",
        "number",
        taken_by="size_range",
        only_without="aspect_ratio",
        together=("width", "height"),
        dropped="{who} takes no custom size; {width}×{height} was dropped.",
    ),
    Shared(
        "height",
        "Height",
        "--height",
        "number",
        taken_by="size_range",
        only_without="aspect_ratio",
        together=("width", "height"),
    ),
    Shared(
        "resolution",
        "Resolution",
        "--resolution",
        "choice",
        help="1K or 2K, where the provider takes one.",
        taken_by="resolutions",
        choices="resolutions",
        upper=True,
        dropped="{who} has no resolution choice; {value} was dropped.",
        replaced="{who} does not offer {value}; {instead} is used instead.",
    ),
    Shared(
        "seed",
        "Seed",
        "--seed",
        "number",
        low=0,
        high=SEED_MAX,
        taken_by="seed",
        dropped="{who} takes no seed; seed {value} was dropped.",
        fact="Seed",
        shown=lambda job: "–" if job.seed is None else str(job.seed),
        note=lambda job: "random" if job.seed is not None and job.seed_random else "",
        card=lambda job: None if job.seed is None else f"seed {job.seed}",
    ),
    Shared(
        "prompt_upsampling",
        "Prompt upsampling",
        "--upsample",
        "switch",
        help="Prompt upsampling.",
        taken_by="upsampling",
        dropped="{who} has no prompt upsampling; it was left off.",
        fact="Prompt upsampling",
        shown=lambda job: "on" if job.prompt_upsampling else "off",
    ),
)


@dataclass(frozen=True)
class Submission:
    """A task the provider accepted: from here on it costs money, so its id is kept."""

    task_id: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class TaskState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)


class ErrorClass(enum.StrEnum):
    AUTH = "auth"
    CREDITS = "credits"
    # KIE's 433: this key's own hourly, daily or total usage cap is used up.
    KEY_CAP = "key_cap"
    VALIDATION = "validation"
    RATE_LIMITED = "rate_limited"
    MAINTENANCE = "maintenance"
    PROVIDER_ERROR = "provider_error"
    UNREACHABLE = "unreachable"
    GENERATION_FAILED = "generation_failed"
    CONTENT_POLICY = "content_policy"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    TIMEOUT = "timeout"
    # Ours, not a provider's: every provider that could take it would pass the limit.
    QUOTA = "quota"


@dataclass(frozen=True)
class ResultImage:
    url: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class TaskStatus:
    """One provider's answer about one task, normalized; `raw` keeps what it really said."""

    task_id: str
    state: TaskState
    progress: int | None = None
    results: tuple[ResultImage, ...] = ()
    provider_state: str = ""
    code: str = ""
    message: str = ""
    error_class: ErrorClass | None = None
    finished_at: datetime | None = None
    # What the vendor itself reports of the task, where it does: its own time for it
    # (KIE's costTime, APIMart's actual_time) and what it cost in its credits.
    reported_seconds: float | None = None
    reported_credits: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class ProviderError(Exception):
    """A provider call that did not give the answer asked for, by class.

    `accepted_maybe` is the one question a caller spending money must ask: True only when
    a create was sent and its answer lost, so the task may exist and be charged.
    """

    error_class: ErrorClass = ErrorClass.PROVIDER_ERROR
    accepted_maybe = False
    # Set once the client has scrubbed its secrets out of message and raw.
    cleaned = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
        raw: Any = None,
    ):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = str(code) if code is not None else ""
        self.retry_after = retry_after
        self.raw = raw

    @property
    def refused_before_acceptance(self) -> bool:
        """The provider turned a create away in a way that another provider may not."""
        return self.error_class in (
            ErrorClass.RATE_LIMITED,
            ErrorClass.MAINTENANCE,
            ErrorClass.PROVIDER_ERROR,
            ErrorClass.UNREACHABLE,
        )

    def __repr__(self):
        return f"{type(self).__name__}({self.message!r}, http_status={self.http_status})"


class AuthError(ProviderError):
    error_class = ErrorClass.AUTH


class InsufficientCredits(ProviderError):
    error_class = ErrorClass.CREDITS


class KeyCapReached(ProviderError):
    error_class = ErrorClass.KEY_CAP


class ValidationFailed(ProviderError):
    error_class = ErrorClass.VALIDATION


class RateLimited(ProviderError):
    error_class = ErrorClass.RATE_LIMITED


class Maintenance(ProviderError):
    error_class = ErrorClass.MAINTENANCE


class ProviderFailure(ProviderError):
    error_class = ErrorClass.PROVIDER_ERROR


class Unreachable(ProviderError):
    """No connection could be made: nothing was sent, so nothing was charged."""

    error_class = ErrorClass.UNREACHABLE


class GenerationFailed(ProviderError):
    error_class = ErrorClass.GENERATION_FAILED


class ContentPolicy(ProviderError):
    error_class = ErrorClass.CONTENT_POLICY


class NotFound(ProviderError):
    error_class = ErrorClass.NOT_FOUND


class TaskUnknown(NotFound):
    """The provider says it has no record of a task we know it accepted (KIE's
    "recordInfo is null"): not our request's fault, and not a reason to distrust the key."""


class Unreadable(ProviderError):
    """An answer came back but could not be read (not JSON, nested too deep, a field no
    parser can take). Not retried in place: the poller counts these per job."""

    error_class = ErrorClass.PROVIDER_ERROR

    def __init__(self, detail: str, **kwargs):
        super().__init__(f"The provider's answer could not be read: {detail}", **kwargs)


class Ambiguous(ProviderError):
    """A create was sent and its answer was lost: the task may exist and may be charged."""

    error_class = ErrorClass.AMBIGUOUS
    accepted_maybe = True
