"""A generation job, the append-only story of what happened to it, and the images it made."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify

from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import states
from flux2web.providers import catalog
from flux2web.providers.types import SHARED_FIELDS, GenerationRequest, Model


def new_secret() -> str:
    return secrets.token_urlsafe(24)


# Each error class in plain words, and what the person can do about it.
ERROR_ADVICE = {
    "auth": (
        "The provider rejected our API key.",
        "Ask an admin to check the key under Providers.",
    ),
    "credits": (
        "The provider account has run out of credit.",
        "Ask an admin to top it up, or pick another provider.",
    ),
    "validation": (
        "The provider would not take these settings.",
        "Change what the message names and generate again.",
    ),
    "rate_limited": (
        "The provider is limiting how fast we send.",
        "Retry in a minute, or pick another provider.",
    ),
    "maintenance": (
        "The provider is down for maintenance.",
        "Retry later, or pick another provider.",
    ),
    "provider_error": (
        "The provider had an internal error.",
        "Retry; if it keeps happening, pick another provider.",
    ),
    "unreachable": (
        "We could not reach the provider.",
        "Retry in a moment; an admin can test the connection.",
    ),
    "generation_failed": (
        "The provider could not make this image.",
        "Retry, or reword the prompt.",
    ),
    "content_policy": (
        "The provider refused the prompt or an image under its content rules.",
        "Reword the prompt or change the reference images.",
    ),
    "not_found": (
        "The provider no longer knows this task.",
        "It may have been charged: an admin decides. Retry to make a new one.",
    ),
    "key_cap": (
        "The provider key's own usage cap is used up.",
        "Ask an admin to raise the cap, or pick another provider.",
    ),
    "ambiguous": (
        "We cannot tell whether the provider accepted this job.",
        "It may still be charged; an admin resolves it. Retry only if you need the image now.",
    ),
    "timeout": (
        "The provider did not finish in time.",
        "Retry; busy providers sometimes catch up.",
    ),
    "quota": (
        "Every provider that could take it would pass your monthly limit.",
        "Pick a cheaper provider, or ask an admin to raise your limit.",
    ),
}


# What a state badge says; the state names are ours, these are the person's.
STATE_WORDS = {
    "queued": "Queued",
    "submitting": "Sending",
    "running": "Generating",
    "mirroring": "Saving",
    "succeeded": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "uncertain": "Uncertain",
    "timed_out": "Timed out",
}


def attempt_due(now) -> models.Q:
    """No retry time set, or it has come (jobs and images alike)."""
    return models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)


def claim_free(now) -> models.Q:
    """Nobody holds the claim, or it ran out (a worker that died mid-download)."""
    return models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lt=now)


class JobQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(owner=user)

    def in_flight(self):
        return self.filter(state__in=states.IN_FLIGHT)

    def queued(self):
        return self.filter(state=states.State.QUEUED)

    def attempt_due(self, now):
        return self.filter(attempt_due(now))

    def visible(self):
        """Not deleted by their owner (deleted jobs stay as the record of what was spent)."""
        return self.filter(deleted_at__isnull=True)


class Job(models.Model):
    # The states and the moves between them are in jobs/states.py.
    State = states.State
    IN_FLIGHT = states.IN_FLIGHT
    FINAL = states.FINAL

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    batch_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    idempotency_key = models.CharField(max_length=80)

    # What was asked for.
    model = models.CharField(max_length=10, choices=[(m.value, f"FLUX.2 {m.value}") for m in Model])
    prompt = models.TextField()
    aspect_ratio = models.CharField(max_length=10, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    resolution = models.CharField(max_length=4, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    # We drew the seed because the person left it random: a retry draws a new one, while
    # "rerun with the same seed" keeps it.
    seed_random = models.BooleanField(default=False)
    prompt_upsampling = models.BooleanField(default=False)
    # What only some vendors take (catalog.Option), by name; defaults are not stored.
    options = models.JSONField(default=dict, blank=True)
    reference_urls = models.JSONField(default=list, blank=True)
    requested_provider = models.ForeignKey(
        ProviderCredential,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty means Auto: the best enabled provider by priority.",
    )

    # Where it went. PROTECT: a credential with jobs is disabled, never deleted, so every
    # job keeps the key it must be followed with.
    provider = models.ForeignKey(
        ProviderCredential, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    provider_task_id = models.CharField(max_length=200, blank=True, db_index=True)
    callback_secret = models.CharField(max_length=64, default=new_secret, editable=False)
    callback_sent = models.BooleanField(default=False)
    price = models.DecimalField(max_digits=8, decimal_places=4, default=0)

    # Where it is.
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    provider_state = models.CharField(max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=30, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When its submit task was put in the broker; see services.dispatch_submits.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    polls = models.PositiveIntegerField(default=0)
    # Status answers in a row that could not be read; a few and the job fails with why.
    unreadable_answers = models.PositiveSmallIntegerField(default=0)
    # "No such task" answers in a row (KIE's "recordInfo is null"); the second ends it.
    unknown_answers = models.PositiveSmallIntegerField(default=0)

    # The owner's own marks.
    favourite = models.BooleanField(default=False)
    # Whether the images it makes are visible to the team (each image can change later).
    team_visible = models.BooleanField(default=False)
    # The image this job was remixed from, so the job page can show the family.
    remix_of = models.ForeignKey(
        "Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="remixes"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    # One request sent to several providers side by side (studio's "Compare providers").
    comparison = models.ForeignKey(
        "Comparison", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # The personal API token it was asked for with (/v1/): its cards say "via API · name".
    api_token = models.ForeignKey(
        "accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why Auto sent it where it went ("fastest that works over the last day, 14 s median").
    route_reason = models.CharField(max_length=200, blank=True)
    # What the provider itself reported, where it does: its own time for the task, and
    # what it says the task cost (KIE's costTime and creditsConsumed).
    provider_seconds = models.FloatField(null=True, blank=True)
    provider_credits = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The person pressed Cancel while the create was being sent: honoured before the call
    # goes out, or as soon as its answer is in (jobs/actions.py).
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    provider_finished_at = models.DateTimeField(null=True, blank=True)
    mirrored_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"], name="job_idempotency_key_per_owner"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_poll_at"], name="job_due_polls"),
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
            models.Index(fields=["owner", "state"], name="job_owner_state"),
            models.Index(fields=["dispatched_at"], name="job_dispatched_recent"),
            # A provider's latest outcomes (Auto's health check: the last hour's jobs).
            models.Index(fields=["provider", "finished_at"], name="job_provider_finished"),
        ]

    def __str__(self):
        return f"Job {self.pk} ({self.state})"

    # What pages and scripts ask of a job, read off jobs/states.py rather than state names.
    @property
    def is_final(self) -> bool:
        return self.state in states.FINAL

    @property
    def in_flight(self) -> bool:
        return self.state in states.IN_FLIGHT

    @property
    def is_in_flight(self) -> bool:
        return self.in_flight

    @cached_property
    def images_in_order(self) -> list[Image]:
        """Its images by index. The studio sets them for a page of cards in one query
        (studio/views.py), cheaper than a prefetch's queryset per job."""
        return sorted(self.images.all(), key=lambda image: image.index)

    @property
    def is_waiting(self) -> bool:
        """Nothing has reached a provider yet."""
        return self.state in states.WAITING

    @property
    def is_succeeded(self) -> bool:
        return self.state == states.State.SUCCEEDED

    @property
    def can_cancel(self) -> bool:
        """Offered until the job ends or the person already asked (while it was sent)."""
        return self.state in states.CANCELLABLE and not self.cancel_requested_at

    @property
    def can_retry(self) -> bool:
        return self.state in states.RETRYABLE

    @property
    def can_delete(self) -> bool:
        return self.state in states.DELETABLE

    @property
    def is_cancelled(self) -> bool:
        return self.state == states.State.CANCELLED

    @property
    def shows_error(self) -> bool:
        return self.state in states.SHOWS_ERROR

    @property
    def state_words(self) -> str:
        return STATE_WORDS.get(self.state, self.state)

    @property
    def error_words(self) -> tuple[str, str]:
        """(what went wrong, what to do next) in plain words."""
        if self.state == self.State.UNCERTAIN:
            # The provider forgot the task, or we never heard whether it took it.
            forgot = self.error_class == "not_found"
            return ERROR_ADVICE["not_found" if forgot else "ambiguous"]
        if self.state == self.State.TIMED_OUT:
            return ERROR_ADVICE["timeout"]
        return ERROR_ADVICE.get(
            self.error_class, ("Something went wrong.", "Retry, or pick another provider.")
        )

    @property
    def error_detail_public(self) -> bool:
        """Whether the person who is no admin sees the error's detail. Most details are a
        provider's own words, meant for whoever looks after the provider accounts; these
        are what the person changes or decides themselves. Admins see every detail."""
        return self.error_class in ("validation", "quota", "content_policy")

    @property
    def typical_seconds(self) -> int:
        from flux2web.providers import catalog

        caps = self.provider and catalog.capabilities(self.provider.dialect, self.model)
        return caps.typical_seconds if caps else 30

    @property
    def elapsed_seconds(self) -> int:
        end = self.finished_at or timezone.now()
        return max(0, int((end - self.created_at).total_seconds()))

    @property
    def progress_percent(self) -> int:
        """The provider's progress when it gives one, otherwise time against the typical."""
        if self.state == self.State.SUCCEEDED:
            return 100
        if self.progress is not None:
            return min(100, self.progress)
        if self.is_waiting:
            return 2
        started = self.submitted_at or self.created_at
        elapsed = (timezone.now() - started).total_seconds()
        return min(95, max(5, int(elapsed * 100 / self.typical_seconds)))

    @property
    def size_label(self) -> str:
        if self.width and self.height:
            return f"{self.width}×{self.height}"
        return self.aspect_ratio or "default size"

    def option(self, name: str):
        """A vendor option's value as asked: False or "" where it was left at its default."""
        found = catalog.every_option().get(name)
        return self.options.get(name, False if found is None or found.is_switch else "")

    @property
    def option_facts(self) -> list[tuple[str, str]]:
        """(label, value) of each vendor option asked, as the job page lists them."""
        known = catalog.every_option()
        return [
            (
                known[name].label if name in known else name,
                known[name].shown(value) if name in known else str(value),
            )
            for name, value in self.options.items()
        ]

    @property
    def facts(self) -> list[tuple[str, str, str]]:
        """(label, value, muted note) of what was asked, as the job page's Parameters list
        them: the shared fields as SHARED_FIELDS shows each, then the vendor options."""
        shared = [
            (spec.fact, spec.shown(self), spec.note(self) if spec.note else "")
            for spec in SHARED_FIELDS
            if spec.shown
        ]
        return shared + [(label, value, "") for label, value in self.option_facts]

    @property
    def card_facts(self) -> list[str]:
        """What the card's meta line says of the request, after the provider and model."""
        return [fact for spec in SHARED_FIELDS if spec.card and (fact := spec.card(self))]

    @staticmethod
    def stored_request(request: GenerationRequest) -> dict:
        """The columns that keep a request, the seed aside (drawn per job): each field of
        GenerationRequest under its own name, an absent value as the column's blank."""
        stored = {}
        for name in ASKED:
            value = getattr(request, name)
            if value is None and not Job._meta.get_field(name).null:
                value = ""
            stored[name] = list(value) if isinstance(value, tuple) else value
        # Tidied as a repeated press is compared (job_requests._pressed_again).
        stored.update(prompt=request.prompt.strip(), resolution=stored["resolution"].upper())
        return {**stored, "options": dict(request.options)}  # a copy: the row's own

    def generation_request(self, *, callback_url: str | None = None) -> GenerationRequest:
        """The request this job keeps, read back from the columns stored_request wrote."""
        values = {}
        for field in dataclasses.fields(GenerationRequest):
            if field.name in ASKED:
                value = getattr(self, field.name)
                value = None if value == "" and field.default is None else value
                values[field.name] = tuple(value) if isinstance(value, list) else value
        values.update(model=Model(self.model), options=dict(self.options))
        return GenerationRequest(**values, seed=self.seed, callback_url=callback_url)


# The request's fields a job keeps in columns of the same names: all but the seed (drawn
# per job, its own column) and the callback address (the site's, not the person's).
ASKED = tuple(
    f.name for f in dataclasses.fields(GenerationRequest) if f.name not in ("seed", "callback_url")
)


class Comparison(models.Model):
    """One request sent to several providers at once: a job each, shown side by side on
    one card; the person may keep one of them."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comparisons"
    )
    created_at = models.DateTimeField(default=timezone.now)
    kept = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"comparison {self.pk}"


class JobEvent(models.Model):
    """Append-only: every state change and every provider call. Never holds a key."""

    class Kind(models.TextChoices):
        STATE = "state"
        CALL = "call"
        NOTE = "note"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    provider = models.CharField(max_length=60, blank=True)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=300, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["job", "at"], name="jobevent_job_at")]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.kind} {self.to_state or self.path} {self.message[:40]}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Job events are append-only.")
        super().save(*args, **kwargs)


def image_path(image: Image, filename: str) -> str:
    # An unguessable name is the second fence behind the access-checked media view.
    return f"images/{image.owner_id}/{secrets.token_urlsafe(18)}{_suffix(filename)}"


def thumbnail_path(image: Image, filename: str) -> str:
    return f"thumbs/{image.owner_id}/{secrets.token_urlsafe(18)}{_suffix(filename)}"


def _suffix(filename: str) -> str:
    return "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


# ---- Who may see an image: written here alone (tests/jobs/test_who_sees_an_image.py). ----


def seen_by_team(via: str = "") -> models.Q:
    """Images the team sees: made team-visible by an owner who is still an active member
    (one team per site, so every active member is a teammate; a former member's work
    leaves the team with them). `via` is the path to the image from the model queried:
    "image__" from a collection item, "items__image__" from a collection, "images__" from
    a job, so those queries ask the same question in their own SQL."""
    return models.Q(**{f"{via}team_visible": True, f"{via}owner__is_active": True})


def seen_by(user, via: str = "") -> models.Q:
    """Images a person may see: their own, and the ones the team sees."""
    return models.Q(**{f"{via}owner": user}) | seen_by_team(via)


class ImageQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Image.Status.PENDING)

    def claimable(self, now):
        """Pending images no worker holds now."""
        return self.pending().filter(claim_free(now))

    def attempt_due(self, now):
        return self.filter(attempt_due(now))

    def shown(self):
        """Stored images of jobs their owner has not deleted: what any gallery can show."""
        return self.filter(status=Image.Status.MIRRORED, job__deleted_at__isnull=True)

    def visible_to(self, user):
        """What a person may see and use (galleries, collections, remixing, "Use as
        reference"): their own stored images and the ones the team sees (`seen_by`)."""
        return self.shown().filter(seen_by(user))

    def shared_with_team(self):
        """What the team gallery shows: the images the team sees, whoever made them."""
        return self.filter(seen_by_team())

    def owned_by(self, user):
        """A person's own images: the ones they may change, delete, share by link or put
        on show. Not who may see an image (that is `visible_to`)."""
        return self.filter(owner=user)

    def private(self):
        """Images the team does not see yet: what showing them to the team changes."""
        return self.filter(team_visible=False)


class Image(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        MIRRORED = "mirrored"
        LOST = "lost"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="images")
    # The job's owner, repeated so a person's gallery is one index walk, newest first,
    # however long their history.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    index = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    provider_url = models.TextField()
    provider_url_expires_at = models.DateTimeField(null=True, blank=True)
    original = models.FileField(upload_to=image_path, max_length=200, blank=True)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=200, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    mirrored_at = models.DateTimeField(null=True, blank=True)
    # Teammates see it in the team gallery; otherwise only its owner (and staff) do.
    team_visible = models.BooleanField(default=False)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="image_index_per_job")]
        indexes = [
            models.Index(fields=["owner", "status", "-id"], name="image_owner_recent"),
            models.Index(fields=["team_visible", "status", "-id"], name="image_team_recent"),
        ]

    def __str__(self):
        return f"Image {self.index} of job {self.job_id} ({self.status})"

    def is_seen_by(self, user) -> bool:
        """`seen_by` for an image already in hand (with its owner), asked without a query:
        the media view and a collection's cover."""
        return self.owner_id == user.pk or (self.team_visible and self.owner.is_active)

    # Copies made from the original for sharing (web size, metadata removed). Named from the
    # original's name, which holds 18 random bytes, so a hash of it is as unguessable; and
    # it never changes for an image, so each copy is made once. Deleted with the image.
    DERIVED_KINDS = (("web", "jpg"), ("clean", "png"), ("clean", "jpg"))

    def derived_name(self, kind: str, extension: str) -> str:
        digest = hashlib.sha256(f"{kind}:{self.original.name}".encode()).hexdigest()[:40]
        return f"shared/{self.owner_id}/{kind}-{digest}.{extension}"

    def derived_names(self) -> list[str]:
        return [self.derived_name(k, e) for k, e in self.DERIVED_KINDS] if self.original else []

    @property
    def download_name(self) -> str:
        """A file name that says what the image is (its prompt): for its owner's downloads."""
        words = slugify(self.job.prompt)[:48].strip("-") or "image"
        extension = self.original.name.rsplit(".", 1)[-1] if "." in self.original.name else "png"
        return f"flux2web-{self.job_id}-{self.index + 1}-{words}.{extension}"
