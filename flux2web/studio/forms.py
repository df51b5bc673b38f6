"""The generation form. Its options follow the chosen provider and model: the catalog says
what each one takes, and the form offers exactly that, keeping every value that still applies.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property

from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import services
from flux2web.jobs.remix import initial_from_job as initial_from_job  # views import it here
from flux2web.lib.addresses import url_syntax_problem
from flux2web.providers import catalog
from flux2web.providers.types import SHARED_FIELDS, GenerationRequest, Model, Shared
from flux2web.studio import comparing, references

MAX_COUNT = 4
# Stand-ins for uploads while validating: counted against the provider's limit, replaced
# by signed URLs once the request is accepted.
UPLOAD_PLACEHOLDER = "https://upload.invalid/{}"


@dataclass(frozen=True)
class Options:
    """Whose capabilities shape the form: a named provider, or Auto's first choice."""

    credentials: list[ProviderCredential]
    credential: ProviderCredential | None
    model: Model
    caps: catalog.Capabilities | None
    auto: bool
    # Why Auto would send it there ("Apixo: fastest over the last day, 14 s median").
    reason: str = ""

    @property
    def models(self) -> list[Model]:
        if self.auto:
            return [m for m in Model if any(c.offers(m) for c in self.credentials)]
        return [m for m in Model if self.credential.offers(m)] if self.credential else []

    def price(self, resolution: str | None) -> Decimal | None:
        if not self.caps or not self.credential:
            return None
        return self.credential.price_for(self.model, resolution)


def resolve_options(provider: str | None, model: str | None, resolution=None) -> Options:
    credentials = list(ProviderCredential.objects.enabled().by_priority())
    chosen = next((c for c in credentials if str(c.pk) == (provider or "")), None)
    auto = chosen is None
    offered = (
        [m for m in Model if any(c.offers(m) for c in credentials)]
        if auto
        else [m for m in Model if chosen.offers(m)]
    )
    wanted = model if model in Model._value2member_map_ else Model.PRO.value
    picked = Model(wanted) if Model(wanted) in offered or not offered else offered[0]
    reason = ""
    if auto:  # Auto's first choice, as routing will make it: the team's strategy
        chosen, reason = _auto_first(credentials, picked, resolution)
    caps = catalog.capabilities(chosen.dialect, picked) if chosen else None
    return Options(credentials, chosen, picked, caps, auto, reason)


# Auto's first choice per model and resolution, kept a few seconds: it is asked on every
# studio view, and a save of the team's policy or of a provider forgets it (studio/apps.py).
AUTO_FIRST_KEY = "studio:auto-first"
AUTO_FIRST_SECONDS = 5


def _auto_first(credentials, model: Model, resolution) -> tuple[ProviderCredential | None, str]:
    """(where Auto would send a request for this model and resolution, and why): its first
    choice that is not a trial, where the price is reserved."""
    resolution = resolution if isinstance(resolution, str) else None
    kept = cache.get(AUTO_FIRST_KEY) or {}
    key = f"{model}:{resolution or ''}"
    by_pk = {c.pk: c for c in credentials}
    if key not in kept or (kept[key] and kept[key][0] not in by_pk):
        # As the reservation (routing.price_for): a trial goes to at most one job of many.
        choices = list(services.route(model, None, resolution=resolution or None))
        first = next((c for c in choices if not c.trial), None) or next(iter(choices), None)
        kept[key] = (first.credential.pk, first.reason) if first else None
        cache.set(AUTO_FIRST_KEY, kept, AUTO_FIRST_SECONDS)
    if kept[key] is None:
        return None, ""
    pk, reason = kept[key]
    return by_pk[pk], reason


def studio_form(data=None, *, owner) -> GenerateForm:
    """The studio's generation form from values typed or carried in: the options they
    choose, those of their values that still apply, ready to show."""
    data = data or {}
    options = resolve_options(data.get("provider"), data.get("model"), data.get("resolution"))
    initial = GenerateForm.carried_over(data, options)
    return GenerateForm(initial=initial, options=options, owner=owner).ready_to_show()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            # GIF and HEIC are taken too: they are converted to PNG on upload.
            "widget",
            MultipleFileInput(
                attrs={
                    "accept": "image/png,image/jpeg,image/webp,"
                    "image/gif,image/heic,image/heif,.heic"
                }
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        single = super().clean
        return [single(f, initial) for f in files]


class ProviderIds(forms.MultipleChoiceField):
    """Providers ticked to compare. One ticked and since switched off is no error of the
    form (a Generate press ignores the ticks): the compare list says why it cannot go."""

    def valid_value(self, value) -> bool:
        return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10


def _shared_field(spec: Shared) -> forms.Field:
    """The form's field for one of the request's shared fields (providers/types.py)."""
    if spec.kind == "switch":
        return forms.BooleanField(label=spec.label, required=False)
    if spec.kind == "number":
        return forms.IntegerField(
            label=spec.label, required=False, min_value=spec.low, max_value=spec.high
        )
    # Plain text behind a select: the catalog, not a generic "invalid choice", explains a
    # value this provider does not take. Blank is None, as in the request.
    return forms.CharField(label=spec.label, required=False, widget=forms.Select, empty_value=None)


# A field for each of the request's shared fields, of the same name; GenerateForm adds the
# rest, and its clean() hands their cleaned values to GenerationRequest as they are.
SharedFields = type(
    "SharedFields", (forms.Form,), {spec.name: _shared_field(spec) for spec in SHARED_FIELDS}
)


class GenerateForm(SharedFields):
    # The shared fields after the provider, where they always stood.
    field_order = ("prompt", "model", "provider", *(spec.name for spec in SHARED_FIELDS))

    prompt = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "A red fox asleep in fresh snow"}),
    )
    model = forms.ChoiceField(
        label="Model",
        error_messages={"invalid_choice": "This provider does not offer FLUX.2 %(value)s."},
    )
    provider = forms.ChoiceField(
        label="Provider",
        required=False,
        help_text="Auto follows the team's routing (by priority, cheapest or fastest that "
        "works) and moves on if one refuses.",
        error_messages={
            "invalid_choice": "That provider is not available (disabled or removed); "
            "choose another or Auto."
        },
    )
    # Each vendor option (catalog.Option) is a field of its own name, added in __init__.
    reference_urls = forms.CharField(
        label="Reference image URLs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://… (one per line)"}),
    )
    reference_files = MultipleFileField(label="Upload reference images", required=False)
    # Stored references carried in (a remix, "Use as reference"): shown as tiles, each a
    # ticked box naming the upload, so the form works the same without JavaScript.
    reference_ids = forms.Field(
        label="Carried reference images", required=False, widget=forms.MultipleHiddenInput
    )
    count = forms.IntegerField(label="Images", min_value=1, max_value=MAX_COUNT, initial=1)
    # Compare providers: the same request to each chosen one (studio/comparing.py).
    compare = ProviderIds(
        label="Providers to compare", required=False, widget=forms.CheckboxSelectMultiple
    )
    compare_all = forms.BooleanField(label="Every enabled one that can do it", required=False)
    # The compare list was open (app.js notes it as it opens or closes): it is drawn open.
    compare_open = forms.BooleanField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(
        self,
        *args,
        options: Options,
        owner=None,
        base_url: str = "",
        comparing: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.options = options
        # Compare providers: no one provider need take it all (each is checked on its own).
        self.comparing = comparing
        # Who submits, and where this site is: our own upload links among the pasted
        # references are recognised (and the owner's re-signed) by them.
        self.owner, self.base_url = owner, base_url
        f = self.fields
        f["idempotency_key"].initial = uuid.uuid4().hex
        f["model"].choices = [(m.value, f"FLUX.2 [{m.value}]") for m in options.models] or [
            (Model.PRO.value, "FLUX.2 [pro]")
        ]
        f["provider"].choices = [("", "Auto")] + [(str(c.pk), c.name) for c in options.credentials]
        f["compare"].choices = [(str(c.pk), c.name) for c in options.credentials]
        if not options.auto and options.credential:  # the help follows the choice
            f[
                "provider"
            ].help_text = (
                f"Only {options.credential.name}: if it refuses, the job does not move on."
            )
        caps = options.caps
        ratios = list(caps.aspect_ratios) if caps else []
        blank = "Custom size" if caps and caps.size_range else "Provider default"
        f["aspect_ratio"].widget.choices = [("", blank)] + [(r, _ratio_label(r)) for r in ratios]
        f["resolution"].widget.choices = [(r, r) for r in caps.resolutions] if caps else []
        for option in catalog.every_option().values():
            f[option.name] = _option_field(option, caps.option(option.name) if caps else None)
            f[option.name].help_text = option.help.format(
                provider=caps.provider_label if caps else ""
            )
        if caps and caps.size_range:
            low, high = caps.size_range
            for name in ("width", "height"):
                f[name].widget.attrs.update(min=low, max=high, placeholder=f"{low}–{high}")
        f["reference_files"].help_text = (
            "PNG, JPEG or WebP up to 10 MB (GIF and HEIC become PNG); drop files here or "
            "choose them."
        )
        # The page's script checks what it can before sending, in the server's words.
        f["reference_files"].widget.attrs.update(
            {
                "data-max-bytes": catalog.REF_MAX_BYTES,
                "data-hard-max-bytes": settings.MAX_IMAGE_BYTES,
                "data-too-big": references.TOO_BIG.replace(
                    "{limit}", str(catalog.REF_MAX_BYTES // (1024 * 1024))
                ),
                "data-too-large": references.TOO_LARGE.replace(
                    "{limit}", str(settings.MAX_IMAGE_BYTES // (1024 * 1024))
                ),
                "data-unreadable": references.UNREADABLE,
            }
        )
        f["seed"].widget.attrs.update(placeholder="Random")
        f["count"].widget.attrs.update(min=1, max=MAX_COUNT)

    @cached_property
    def shown_fields(self) -> set[str]:
        """The fields these options display; an error on another (a stale form, a hand-made
        POST) is said without a link to it (templatetags/studio.py submit_errors)."""
        caps = self.options.caps
        shown = {"prompt", "model", "provider", "count", "reference_urls", "reference_files"}
        shown |= {"reference_ids", "compare", "compare_all"}
        if caps:
            shown |= {spec.name for spec in SHARED_FIELDS if spec.taken(caps)}
            shown |= {option.name for option in caps.options}
        return shown

    @cached_property
    def option_fields(self) -> list:
        """The vendor options these options show, in the order the dialect lists them."""
        return (
            [self[option.name] for option in self.options.caps.options] if self.options.caps else []
        )

    @cached_property
    def estimate(self) -> tuple | None:
        """(total, count, each) in USD at the provider's configured price."""
        resolution = self["resolution"].value() or None
        each = self.options.price(resolution)
        if each is None:
            return None
        try:
            count = min(MAX_COUNT, max(1, int(self["count"].value() or 1)))
        except (TypeError, ValueError):
            count = 1
        return each * count, count, each

    def ready_to_show(self) -> GenerateForm:
        """The form with what a page shows of it worked out now (which fields show, the
        vendor options, the estimate, the carried references), so that rendering it reads
        values and asks the form nothing more."""
        for name in (
            "shown_fields",
            "option_fields",
            "estimate",
            "reference_tiles",
            "plan",
            "compare_opened",
        ):
            getattr(self, name)
        return self

    @cached_property
    def plan(self) -> comparing.Plan | None:
        """Compare providers as the form stands: each provider's price, or why it cannot
        take the request; None where fewer than two providers are enabled."""
        if len(self.options.credentials) < comparing.MIN_PROVIDERS:
            return None
        chosen = {str(v) for v in self["compare"].value() or []}
        every = self["compare_all"].value() in (True, "on", "true", "1")
        request = self.draft_request()
        uploads = frozenset(
            u for u in request.reference_urls if u.startswith(UPLOAD_PLACEHOLDER[:-2])
        )
        return comparing.plan_for(
            request,
            credentials=self.options.credentials,
            chosen=chosen,
            every=every,
            trusted=uploads,
            blank_prompt_ok=True,
        )

    @cached_property
    def compare_opened(self) -> bool:
        """Whether the compare list is drawn open: anything ticked, an answer about it, or
        open before (it never snaps shut under the finger as the list is drawn again)."""
        plan = self.plan
        return bool(
            (plan and (plan.every or any(e.chosen for e in plan.entries)))
            or self["compare"].errors
            or getattr(self, "confirm_plan", False)
            or self["compare_open"].value() in (True, "on", "true", "1", "True")
        )

    def draft_request(self) -> GenerationRequest:
        """The request as typed so far, read without validating (the compare list's
        preview); a value that does not read is left out, and the press names it."""
        values = {}
        for spec in SHARED_FIELDS:
            value = self[spec.name].value()
            if spec.kind == "switch":
                values[spec.name] = value in (True, "on", "true", "1")
            elif spec.kind == "number":
                text = str(value if value is not None else "").strip()
                values[spec.name] = int(text) if text.isascii() and text.isdigit() else None
            else:
                values[spec.name] = spec.tidy(value) or None
        urls = [u.strip() for u in (self["reference_urls"].value() or "").splitlines()]
        carried = self["reference_ids"].value() or []
        placeholders = [UPLOAD_PLACEHOLDER.format(i) for i in range(len(carried))]
        return GenerationRequest(
            model=self.options.model,
            prompt=self["prompt"].value() or "",
            **values,
            options={
                name: value
                for name, option in catalog.every_option().items()
                if (value := option.parse(self[name].value()))
            },
            reference_urls=tuple(u for u in urls if u and not url_syntax_problem(u))
            + tuple(placeholders),
        )

    # ---- What applies, for re-rendering after provider or model changed. ------------

    @classmethod
    def carried_over(cls, data, options: Options) -> dict:
        """The submitted values that still apply to these options; the rest fall back."""
        caps = options.caps
        keep = {
            "prompt": data.get("prompt", ""),
            "model": options.model.value,
            "provider": "" if options.auto else str(options.credential.pk),
            "reference_urls": data.get("reference_urls", ""),
            "reference_ids": data.getlist("reference_ids")
            if hasattr(data, "getlist")
            else list(data.get("reference_ids") or []),
            "count": data.get("count") or 1,
            "compare": data.getlist("compare")
            if hasattr(data, "getlist")
            else list(data.get("compare") or []),
            "compare_all": data.get("compare_all") in (True, "on", "true", "1"),
            "compare_open": data.get("compare_open") in (True, "on", "true", "1", "True"),
            "idempotency_key": data.get("idempotency_key") or uuid.uuid4().hex,
        }
        if caps is None:
            return keep
        # The compare list's seed, for the providers that take one, whoever is shown above.
        keep["seed"] = data.get("seed", "")
        for spec in SHARED_FIELDS:
            if not spec.taken(caps) or (spec.only_without and keep.get(spec.only_without)):
                continue
            if spec.kind == "choice":  # a value not offered falls back to the default
                value, offered = spec.tidy(data.get(spec.name)), getattr(caps, spec.choices)
                keep[spec.name] = value if value in offered else _fallback(spec, caps)
            elif spec.kind == "switch":
                keep[spec.name] = data.get(spec.name) in ("on", "true", "1")
            else:
                keep[spec.name] = data.get(spec.name, "")
        for option in caps.options:
            value = option.parse(data.get(option.name))
            keep[option.name] = value if option.is_switch or value in option.choices else ""
        return keep

    # ---- Validation: the catalog decides, field by field. ---------------------------

    @cached_property
    def reference_tiles(self) -> list:
        """The carried references the person may see, as the form shows them."""
        if self.owner is None:
            return []
        uploads, _ = references.visible_uploads(
            self["reference_ids"].value() or [], user=self.owner
        )
        for ref in uploads:
            ref.preview = references.preview_path(ref)
        return uploads

    def clean_reference_ids(self):
        if self.owner is None:
            return []
        uploads, missing = references.visible_uploads(
            self.cleaned_data.get("reference_ids") or [], user=self.owner
        )
        if missing:
            raise ValidationError(
                "A carried reference image is gone or not shared with you any more; it was "
                "left out. Generate again without it, or add another."
            )
        return uploads

    def clean_reference_files(self):
        files = self.cleaned_data.get("reference_files") or []
        for upload in files:
            try:
                references.check_image(upload)
            except ValidationError as exc:
                raise ValidationError(exc.messages[0]) from None
        return files

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        options = self.options
        if options.caps is None:
            who = options.credential.name if options.credential else "any enabled provider"
            if not options.credentials:
                raise ValidationError("No provider is enabled. An admin adds one under Providers.")
            self.add_error("model", f"FLUX.2 {options.model} is not offered by {who}.")
            return data
        urls = [u.strip() for u in (data.get("reference_urls") or "").splitlines() if u.strip()]
        unreadable = [
            f"Reference image {number} {problem}."
            for number, url in enumerate(urls, start=1)
            if (problem := url_syntax_problem(url))
        ]
        if unreadable:  # the rules below could not even parse these
            for message in unreadable:
                self.add_error("reference_urls", message)
            return data
        trusted = set()
        if self.owner is not None:
            taken = references.take_references(urls, owner=self.owner, base=self.base_url)
            urls, trusted = list(taken.urls), set(taken.ours)
            for problem in taken.problems:
                self.add_error("reference_urls", problem.message)
        carried = [
            references.public_url(ref, base=self.base_url)
            for ref in data.get("reference_ids") or []
        ]
        urls += carried
        trusted |= set(carried)  # our own signed links, to uploads the person may see
        uploads = data.get("reference_files") or []
        placeholders = [UPLOAD_PLACEHOLDER.format(i) for i in range(len(uploads))]
        urls += placeholders
        trusted |= set(placeholders)  # become our own signed links once stored
        request = GenerationRequest(
            model=options.model,
            prompt=data.get("prompt") or "",
            **{spec.name: data.get(spec.name) for spec in SHARED_FIELDS},
            options={
                name: value
                for name, option in catalog.every_option().items()
                if (value := option.parse(data.get(name)))
            },
            reference_urls=tuple(urls),
        )
        spec = services.JobSpec(
            request=request,
            provider=None if options.auto else options.credential,
            count=data.get("count") or 1,
            random_seed=bool(options.caps.seed and not options.auto and request.seed is None),
            trusted_references=frozenset(trusted),
        )
        if self.comparing:  # each provider is checked on its own (studio/comparing.py)
            problems = services.reference_problems(spec)
        else:
            problems = services.check_spec(spec)
        if not problems and not self.errors:
            # Pasted references are fetched once, here, and not again when the jobs are made.
            problems = services.fetch_references(spec)
            pasted = frozenset(u for u in urls if u not in trusted)
            spec = dataclasses.replace(spec, fetched_references=pasted)
        for problem in problems:
            field = "reference_urls" if problem.field == "reference_urls" else problem.field
            self.add_error(field if field in self.fields else None, problem.message)
        self.spec = spec
        return data

    def uploads(self, *, owner, base_url: str) -> references.PendingUploads:
        """The uploaded references, to be stored by the transaction that queues the jobs
        (services.create_or_get_jobs) and only if it does."""
        return references.PendingUploads(
            owner=owner,
            uploads=self.cleaned_data.get("reference_files") or [],
            base=base_url,
            placeholder=UPLOAD_PLACEHOLDER.format(""),
        )


def drop_unsupported(data, options: Options):
    """The submitted values without those the chosen provider does not take, and a notice
    for each one dropped. A form sent without JavaScript still shows the options of the
    provider chosen before; switching provider there must not fail the Generate."""
    caps = options.caps
    if caps is None or options.credential is None:
        return data, []
    data, notes, who = data.copy(), [], options.credential.name

    def drop(name: str, notice: str) -> None:
        if data.get(name, "") != "":
            notes.append(notice.format(value=data.get(name)))
            data.pop(name)

    # Only a value some provider would take is a stale choice to drop or replace; anything
    # else is a mistake the form must name, not something to swallow.
    for spec in SHARED_FIELDS:
        known = {  # the values of this choice that some provider here offers
            offered
            for c in options.credentials
            for m in Model
            if spec.choices and (other := catalog.capabilities(c.dialect, m))
            for offered in getattr(other, spec.choices)
        }
        value = spec.tidy(data.get(spec.name))
        if not spec.taken(caps):
            names = spec.together or (spec.name,)
            if spec.name != names[0] or not any(data.get(n) for n in names):
                continue  # dropped with the first of them, or nothing to drop
            if all(not data.get(n) or spec.stale(data.get(n), known) for n in names):
                sizes = {n: data.get(n) or "?" for n in names}
                notes.append(spec.dropped.format(who=who, value=data.get(spec.name), **sizes))
                for n in names:
                    data.pop(n, None)
        elif spec.kind == "choice" and value in known - set(getattr(caps, spec.choices)):
            data[spec.name] = _fallback(spec, caps)
            instead = data[spec.name] or spec.blank
            notes.append(spec.replaced.format(who=who, value=value, instead=instead))
    for name, option in catalog.every_option().items():
        value = option.parse(data.get(name))
        if caps.option(name) is None and (option.is_switch or value in catalog.known_choices(name)):
            drop(name, option.dropped.replace("{who}", who))
    return data, notes


def _fallback(spec: Shared, caps: catalog.Capabilities) -> str:
    """A choice's value where the one carried is not offered: the provider's default."""
    return (getattr(caps, spec.default) if spec.default else getattr(caps, spec.choices)[0]) or ""


def _option_field(option: catalog.Option, offered: catalog.Option | None) -> forms.Field:
    """A vendor option's field; its choices are the chosen provider's (none where it has
    the option not: the field is not shown, and a stale value is dropped or named)."""
    if option.is_switch:
        return forms.BooleanField(label=option.label, required=False)
    # Plain text behind a select, like the ratio: the catalog names a value not offered.
    field = forms.CharField(label=option.label, required=False, widget=forms.Select)
    choices = offered.choices if offered else ()
    field.widget.choices = [("", option.default_label)] + [(c, c.capitalize()) for c in choices]
    return field


def _ratio_label(ratio: str) -> str:
    names = {
        "1:1": "square",
        "16:9": "wide",
        "9:16": "tall",
        "auto": "like the first reference",
        "21:9": "cinema",
    }
    return f"{ratio} ({names[ratio]})" if ratio in names else ratio
