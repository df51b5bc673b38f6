"""The studio: the generation form, the live job cards, and a job's own page."""

from __future__ import annotations

import dataclasses
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count
from django.db.models.expressions import RawSQL
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from flux2web.collections import services as sharing
from flux2web.collections.studio import StudioExtras, family, studio_part
from flux2web.core.models import Heartbeat
from flux2web.jobs import services
from flux2web.jobs.models import Comparison, Image, Job
from flux2web.lib.headers import stored_file
from flux2web.lib.htmx import no_change, render_page
from flux2web.lib.ids import parse_id
from flux2web.lib.redirects import redirect_back
from flux2web.studio import again, comparing, presenters, references
from flux2web.studio.cards import render_page_parts
from flux2web.studio.forms import (
    GenerateForm,
    drop_unsupported,
    initial_from_job,
    resolve_options,
    studio_form,
)
from flux2web.studio.models import ReferenceUpload

CARDS_PER_PAGE = 20
# The same request again this soon after its jobs were queued is the same press of
# Generate (a double click that landed on the form that came back, with or without JS);
# app.js holds the new form's button as long.
PRESSED_AGAIN_SECONDS = 1
# The refresher follows at most this many in-flight jobs; more than that is a batch job
# for the CLI, and the rest still show their state on the next page load.
FOLLOW_AT_MOST = 200


def _get_job_for_user(request, job_id) -> Job:
    return get_object_or_404(
        Job.objects.visible().select_related("provider", "requested_provider", "api_token"),
        pk=job_id,
        owner=request.user,
    )


def _cards(user, *, before=None):
    jobs = _card_jobs(Job.objects.visible().filter(owner=user))
    if before:
        jobs = jobs.filter(pk__lt=before)
    return list(jobs.order_by("-id")[: CARDS_PER_PAGE + 1])


# What a card shows (templates/studio/home.html#job-card, studio/presenters.py): a job row
# has forty columns and a provider's twenty; a card needs these (test_studio_queries.py).
CARD_FIELDS = (
    "pk", "owner_id", "batch_id", "model", "prompt", "aspect_ratio", "width", "height",
    "resolution", "seed", "state", "progress", "error_class", "error_message", "attempts",
    "next_attempt_at", "cancel_requested_at", "favourite", "created_at", "submitted_at",
    "finished_at", "updated_at", "provider__name", "provider__dialect",
    "requested_provider__name", "price", "mirrored_at", "provider_seconds", "comparison__kept",
    "api_token__name",
)  # fmt: skip


def _cards_and_in_flight(user, *, before=None) -> tuple[list[Job], dict[int, str]]:
    """A page of cards and the fingerprint of every job in flight (for the refresher and
    the in-flight count), in one query: the page's jobs and those in flight together."""
    mine = Job.objects.visible().for_user(user)
    page = mine.filter(pk__lt=before) if before else mine
    page_sql, page_params = (
        page.order_by("-id").values("pk")[: CARDS_PER_PAGE + 1].query.sql_with_params()
    )
    live_sql, live_params = mine.in_flight().order_by().values("pk").query.sql_with_params()
    # A UNION of two index lookups, then rows by primary key: an OR of the two conditions
    # made SQLite walk the person's whole history (14 ms at 10,000 jobs).
    # Both parts are the ORM's own SQL, their values passed as parameters.
    both = RawSQL(  # noqa: S611
        f"SELECT * FROM ({page_sql}) AS page UNION SELECT * FROM ({live_sql}) AS live",  # noqa: S608
        (*page_params, *live_params),
    )
    rows = list(
        Job.objects.filter(pk__in=both)
        .select_related("provider", "requested_provider", "comparison", "api_token")
        .only(*CARD_FIELDS)
        .order_by("-id")
    )
    # By the job's id, not the image's Meta ordering, which would join the jobs table again.
    shown: dict[int, list[Image]] = {job.pk: [] for job in rows}
    for image in Image.objects.filter(job_id__in=list(shown)).order_by("job_id", "index"):
        shown[image.job_id].append(image)
    for job in rows:
        job.images_in_order = shown[job.pk]
    cards = [job for job in rows if not before or job.pk < before][: CARDS_PER_PAGE + 1]
    in_flight = {job.pk: _fingerprint(job) for job in rows if job.state in Job.IN_FLIGHT}
    return cards, in_flight


def _fingerprint(job: Job) -> str:
    """What a loaded card shows that can change in flight, as `_fingerprints` reads it."""
    saved = 0
    if job.state == Job.State.MIRRORING:
        saved = sum(1 for i in job.images_in_order if i.status == Image.Status.MIRRORED)
    return f"{job.state}-{'' if job.progress is None else job.progress}-{saved}"


def _fingerprints(user, shown_ids=()) -> dict[int, str]:
    """What each card shows that can change in flight, for every job of the user in
    flight and each shown one: two index lookups, no join, whatever the history's size."""
    fields = ("pk", "state", "progress")
    mine = Job.objects.visible().for_user(user)
    rows = mine.in_flight().order_by().values_list(*fields)
    if shown_ids:
        shown = mine.filter(pk__in=shown_ids)
        rows = rows.union(shown.order_by().values_list(*fields))
    rows = list(rows)
    # Thumbnails arrive one by one only while a job is mirroring; count them just then.
    mirroring = [pk for pk, state, _ in rows if state == Job.State.MIRRORING]
    saved = (
        dict(
            Image.objects.filter(job_id__in=mirroring, status=Image.Status.MIRRORED)
            .values("job_id")
            .annotate(n=Count("pk"))
            .values_list("job_id", "n")
        )
        if mirroring
        else {}
    )
    return {
        pk: f"{state}-{'' if progress is None else progress}-{saved.get(pk, 0)}"
        for pk, state, progress in rows
    }


def _refresher(user, fingerprints=None) -> str:
    """The state the page shows of every job in flight, as the refresher sends it back."""
    if fingerprints is None:
        fingerprints = _fingerprints(user)
    in_flight = [(pk, fp) for pk, fp in fingerprints.items() if fp.split("-")[0] in Job.IN_FLIGHT]
    return ",".join(f"{pk}:{fp}" for pk, fp in sorted(in_flight, reverse=True)[:FOLLOW_AT_MOST])


WORKER_ONLINE_KEY = "studio:worker-online"


def worker_online() -> bool:
    """Whether the task worker reported lately. It reports about once a minute and goes
    stale after two, so a few seconds' memory of the answer changes nothing."""

    return cache.get_or_set(WORKER_ONLINE_KEY, Heartbeat.objects.worker_alive, 10)


def _compose_context(request, form, extras=None, *, in_flight=None):
    return {
        "form": form,
        "extras": extras if extras is not None else StudioExtras(user=request.user),
        "options": form.options,
        "usage": services.usage(request.user, in_flight=in_flight),
        # Jobs only move while a worker runs: say so instead of letting them sit silently.
        "worker_online": worker_online(),
    }


def _studio_form(request, data=None) -> GenerateForm:
    return studio_form(data, owner=request.user)


@require_GET
def home(request):
    """The studio's page. It asks each part below it once for what it shows, in order
    (a remixed job's values, the collections' part, the carried references, the form, the
    quota line, the cards), then renders them together; nothing rendering asks again
    (tests/studio/test_home.py follows the calls)."""
    user, data, remix_of = request.user, {}, None
    if remix := request.GET.get("remix"):
        if parse_id(remix) is None:
            raise Http404("No such job.")
        job = _get_job_for_user(request, parse_id(remix))
        data = initial_from_job(job)
        # The family records an image: the job's first stored one.
        first = job.images.filter(status=Image.Status.MIRRORED).order_by("index").first()
        remix_of = first.pk if first else None
    # An image the person may see, their own or a teammate's: "Remix" or "Use prompt".
    image = None if remix else request.GET.get("image") or request.GET.get("prompt_of")
    started, extras = studio_part(
        user, image_id=image, prompt_only=not request.GET.get("image"), remix_of=remix_of
    )
    data = data or started
    left_out = 0
    # "Use as reference" from the lightbox: the next job starts with that image.
    carried = request.session.pop(CARRIED_REFERENCES, None)
    if data or carried:
        # Our stored references become tiles, those the person may not see are counted
        # to say so, and addresses from elsewhere stay in the URL box.
        urls = [u for u in data.get("reference_urls", "").splitlines() if u.strip()]
        refs = references.carry([*urls, *(carried or [])], user=user)
        data = {
            **data,
            "reference_urls": "\n".join(refs.urls),
            "reference_ids": [ref.pk for ref in refs.uploads],
        }
        left_out = refs.left_out
    plain = not data and not extras.initial.get("remix_of")
    form = _studio_form(request, data)
    cards, in_flight = _cards_and_in_flight(user, before=parse_id(request.GET.get("before")))
    context = {
        **_compose_context(request, form, extras, in_flight=len(in_flight)),
        "jobs": cards[:CARDS_PER_PAGE],
        "older": cards[CARDS_PER_PAGE - 1].pk if len(cards) > CARDS_PER_PAGE else None,
        "refresher": _refresher(user, in_flight),
        "references_left_out": left_out,
    }
    # Nothing typed or carried in: the form as kept, with the cards.
    kept_form = context if plain and not request.htmx else None
    context.update(render_page_parts(request, context["jobs"], compose=kept_form))
    return render_page(request, "studio/home.html", context, partials={"older-jobs": "job-page"})


CARRIED_REFERENCES = "studio:carried-references"


@require_POST
def use_as_reference(request):
    """An image the person may see becomes a reference of their next job: a copy of it
    (references.copy_of: seen while the image is, gone with it), its signed link put in
    the form's reference URLs."""
    image_id = parse_id(request.POST.get("image"))
    image = (
        Image.objects.visible_to(request.user)
        .filter(pk=image_id, status=Image.Status.MIRRORED)
        .first()
        if image_id is not None
        else None
    )
    if image is None:
        return HttpResponse("No such image.", status=404, content_type="text/plain")
    try:
        ref = references.copy_of(image, owner=request.user)
    except (OSError, ValidationError) as problem:
        said = problem.messages[0] if isinstance(problem, ValidationError) else "it is missing"
        messages.error(request, f"That image cannot be a reference: {said}")
        return redirect("studio:home")
    carried = request.session.get(CARRIED_REFERENCES, [])
    request.session[CARRIED_REFERENCES] = [
        *(url for url in carried if references.upload_id(url) != ref.pk),  # once each
        references.public_url(ref, base=references.site_base(request)),
    ]
    messages.success(request, "The image is a reference for your next job (under References).")
    return redirect("studio:home")


@require_POST
def options(request):
    """The form's options again, for the provider and model now chosen."""
    form = _studio_form(request, request.POST)
    return render(request, "studio/home.html#form-options", {"form": form, "options": form.options})


@require_POST
def generate(request):
    if request.POST.get("action") == "compare":
        return _compare(request)
    options = resolve_options(request.POST.get("provider"), request.POST.get("model"))
    base = references.site_base(request)
    data, dropped = drop_unsupported(request.POST, options)
    for notice in dropped:
        messages.info(request, notice)
    form = GenerateForm(data, request.FILES, options=options, owner=request.user, base_url=base)
    extras = StudioExtras(request.POST, user=request.user)
    jobs, cleared = [], False
    if all([form.is_valid(), extras.is_valid()]):
        try:
            jobs, created = services.create_or_get_jobs(
                owner=request.user,
                spec=dataclasses.replace(form.spec, **extras.spec_changes()),
                idempotency_key=form.cleaned_data["idempotency_key"],
                attachments=form.uploads(owner=request.user, base_url=base),
                repeat_seconds=PRESSED_AGAIN_SECONDS,
            )
        except services.JobRefused as refused:
            for problem in refused.problems:
                form.add_error(
                    problem.field if problem.field in form.fields else None, problem.message
                )
        else:
            if created and extras.cleaned_data["collection"]:
                sharing.pending_add(
                    jobs=jobs, collection=extras.cleaned_data["collection"], user=request.user
                )
            if not created:  # a second press of the same form: those jobs are already shown
                jobs = []
            if not request.htmx:
                n = len(jobs)
                if n:
                    messages.success(request, f"Queued {n} image{'s' if n > 1 else ''}.")
                return redirect("studio:home")
            # The next submission is a new request; everything typed stays, but uploaded
            # references went with these jobs and do not silently ride along on the next.
            cleared = bool(form.cleaned_data.get("reference_files"))
            kept = {**data.dict(), "reference_ids": data.getlist("reference_ids")}
            form = _studio_form(request, {**kept, "idempotency_key": ""})
            extras = extras.carried_over()
    return _answer(request, form, extras, jobs, references_cleared=cleared)


def _compare(request):
    """Compare providers: the form's request to each chosen provider (or every one that
    can take it), reserved as one request; answered as Generate is."""
    options = resolve_options("", request.POST.get("model"))
    base = references.site_base(request)
    form = GenerateForm(
        request.POST, request.FILES, options=options, owner=request.user, base_url=base,
        comparing=True,
    )  # fmt: skip
    extras = StudioExtras(request.POST, user=request.user)
    jobs, created = [], False
    if all([form.is_valid(), extras.is_valid()]):
        spec = dataclasses.replace(form.spec, **extras.spec_changes())
        plan = comparing.plan_for(
            spec.request,
            chosen=set(form.cleaned_data["compare"]),
            every=form.cleaned_data["compare_all"],
            trusted=spec.trusted_references,
            fetched=spec.fetched_references,
        )
        form.plan = plan  # shown again with the answer, as checked now
        for problem in plan.problems:
            form.add_error("compare", problem)
        # Nothing is spent on a plan the page did not show (no JavaScript redraws the
        # total as boxes are ticked): it is shown now, and the next press sends it.
        form.confirm_plan = not form.errors and request.POST.get("compare_seen") != plan.seen
        if not form.errors and not form.confirm_plan:
            try:
                jobs, created = services.create_comparison(
                    owner=request.user,
                    specs=comparing.specs_for(plan, spec),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    attachments=form.uploads(owner=request.user, base_url=base),
                    repeat_seconds=PRESSED_AGAIN_SECONDS,
                )
            except services.JobRefused as refused:
                for problem in refused.problems:
                    # Said where the press was: the number of images plays no part here.
                    field = problem.field if problem.field in form.fields else None
                    form.add_error(
                        "compare" if field in (None, "count") else field, problem.message
                    )
            else:
                if created and extras.cleaned_data["collection"]:
                    sharing.pending_add(
                        jobs=jobs, collection=extras.cleaned_data["collection"], user=request.user
                    )
                if not request.htmx:
                    if created:
                        messages.success(request, f"Comparing {len(jobs)} providers.")
                    return redirect("studio:home")
                jobs = jobs if created else []
                kept = {
                    **request.POST.dict(),
                    "reference_ids": request.POST.getlist("reference_ids"),
                }
                kept["compare"] = request.POST.getlist("compare")
                form = _studio_form(request, {**kept, "idempotency_key": ""})
                extras = extras.carried_over()
    return _answer(request, form, extras, jobs)


def _answer(request, form, extras, jobs, **more):
    """What Generate and Compare answer: the whole page without htmx, else the new cards
    and the form (afresh once queued: unbound)."""
    if not request.htmx:
        context = {
            **_compose_context(request, form, extras),
            "jobs": _cards(request.user)[:CARDS_PER_PAGE],
            "refresher": _refresher(request.user),
        }
        return render(request, "studio/home.html", context)
    context = {
        **_compose_context(request, form, extras),
        "new_jobs": _card_jobs(Job.objects.filter(pk__in=[j.pk for j in jobs])).order_by("-id"),
        "refresher": _refresher(request.user) if jobs else None,
        "generated": not form.is_bound,
        **more,
    }
    return render(request, "studio/home.html#generated", context)


def _card_jobs(jobs):
    return jobs.select_related(
        "provider", "requested_provider", "comparison", "api_token"
    ).prefetch_related("images")


def _get_comparison_for_user(request, comparison_id) -> Comparison:
    return get_object_or_404(Comparison, pk=comparison_id, owner=request.user)


def _comparison_jobs(comparison: Comparison) -> list[Job]:
    return list(_card_jobs(comparison.jobs.visible()).order_by("-id"))


@require_GET
def comparison(request, comparison_id):
    """A comparison on its own page: its card, with each provider's image, time and cost."""
    compared = _get_comparison_for_user(request, comparison_id)
    jobs = _comparison_jobs(compared)
    in_flight = {job.pk: _fingerprint(job) for job in jobs if job.in_flight}
    context = {
        "comparison": compared,
        "jobs": jobs,
        "refresher": _refresher(request.user, in_flight),
        "refresh_only": True,  # its own jobs, not every one the person has in flight
    }
    return render(request, "studio/comparison.html", context)


def _after_keep(request, compared: Comparison):
    if not request.htmx:
        return redirect_back(request, "studio:comparison", compared.pk)
    return render(request, "studio/home.html#batches", {"batch_jobs": _comparison_jobs(compared)})


def _compared_job(request, compared: Comparison) -> Job | None:
    """The job of this comparison the form names; None when it names none (said to the
    person); 404 for a job that is not one of this comparison's. One deleted meanwhile
    (another tab kept another) is the service's to refuse, in words."""
    job_id = parse_id(request.POST.get("job"))
    if job_id is None:
        messages.error(request, "Choose which provider's image to keep.")
        return None
    job = compared.jobs.filter(pk=job_id).first()
    if job is None:
        raise Http404("No such job in this comparison.")
    return job


@require_POST
def keep(request, comparison_id):
    """Mark one provider's result as the one kept; the others stay."""
    compared = _get_comparison_for_user(request, comparison_id)
    job = _compared_job(request, compared)
    if job is None:
        return _after_keep(request, compared)
    try:
        services.keep_compared(comparison_id=compared.pk, job_id=job.pk)
    except services.KeepRefused as refused:
        messages.error(request, str(refused))
        return _after_keep(request, compared)
    messages.success(
        request, f"Kept {job.provider.name if job.provider_id else 'this one'}'s image."
    )
    return _after_keep(request, compared)


@require_POST
def keep_only(request, comparison_id):
    """Keep one provider's result and delete the others in one go."""
    compared = _get_comparison_for_user(request, comparison_id)
    job = _compared_job(request, compared)
    if job is None:
        return _after_keep(request, compared)
    try:
        deleted, left = services.keep_only_compared(comparison_id=compared.pk, job_id=job.pk)
    except services.KeepRefused as refused:
        messages.error(request, str(refused))
        return _after_keep(request, compared)
    said = f"Kept this one and deleted {deleted} other{'s' if deleted != 1 else ''}."
    if left:
        said += f" {left} still being sent cannot be deleted yet; it was cancelled."
    messages.success(request, said)
    return _after_keep(request, compared)


@require_GET
def updates(request):
    """One request per page every 2 s: 204 when nothing on it changed, else the changed
    cards out of band, and no further polling once nothing is in flight."""
    shown = {}
    for item in request.GET.get("cards", "").split(",")[:FOLLOW_AT_MOST]:
        job_id, _, fingerprint = item.partition(":")
        if (pk := parse_id(job_id)) is not None:
            shown[pk] = fingerprint
    current = _fingerprints(request.user, list(shown)[:FOLLOW_AT_MOST])
    # A page of some jobs only (a comparison's): those, and no others that appeared.
    only = request.GET.get("only") == "1"
    if only:
        current = {pk: fp for pk, fp in current.items() if pk in shown}
    changed = [pk for pk, fp in current.items() if shown.get(pk) != fp]
    if not changed:
        return no_change()
    cards = list(_card_jobs(Job.objects.filter(pk__in=changed)))
    # A worker may have moved a job on since the first read: follow what the cards now
    # show, or a card shown finished would still be polled as in flight.
    current.update((card.pk, _fingerprint(card)) for card in cards)
    changed_cards = [c for c in cards if c.pk in shown]
    context = {
        "changed": changed_cards,
        "appeared": sorted((c for c in cards if c.pk not in shown), key=lambda j: -j.pk),
        "refresher": _refresher(request.user, current),
        "compared": _finished_comparisons(changed_cards),
        "refresh_only": only,
    }
    return render(request, "studio/home.html#updates", context)


def _finished_comparisons(cards) -> list[list[Job]]:
    """The jobs of each comparison one of these cards just finished in, newest first, for
    its card's head (whose "Compare the images" needs their stored images)."""
    ids = {card.comparison_id for card in cards if card.comparison_id and card.is_final}
    if not ids:
        return []
    jobs = _card_jobs(Job.objects.visible().filter(comparison_id__in=ids)).order_by("-id")
    by_comparison: dict[int, list[Job]] = {}
    for job in jobs:
        by_comparison.setdefault(job.comparison_id, []).append(job)
    return list(by_comparison.values())


@require_GET
def job_detail(request, job_id):
    job = _get_job_for_user(request, job_id)
    events = list(job.events.all())
    for event in events:  # the log names who was asked, as the card does
        event.message = presenters.named_refusal(event.message, events)
    context = {
        "job": job,
        "images": list(job.images.all()),
        "events": events,
        "action_key": uuid.uuid4().hex,
        **family(job=job, user=request.user),
    }
    return render_page(request, "studio/job.html", context, partials={"job-detail": "detail"})


# ---- Actions on a job, from its card (HTMX) or its page (plain form). -----------------


def _after_action(request, job: Job, *, new_jobs=()):
    if not request.htmx:
        default = reverse("studio:job", args=[job.pk]) if job.deleted_at is None else "/"
        return redirect_back(request, default)
    job = _card_jobs(Job.objects.all()).get(pk=job.pk)
    context = {
        "job": job,
        "new_jobs": new_jobs,
        "refresher": _refresher(request.user) if new_jobs else None,
    }
    return render(request, "studio/home.html#acted", context)


@require_POST
def cancel(request, job_id):
    job = _get_job_for_user(request, job_id)
    done, message = services.cancel_job(job_id=job.pk)
    (messages.success if done else messages.warning)(request, message)
    return _after_action(request, job)


def _again(request, job_id, *, same_seed: bool):
    job = _get_job_for_user(request, job_id)
    # The page's one-time action key; PostgreSQL cannot store a NUL byte, so none is kept.
    key = request.POST.get("key", "").replace("\x00", "") or uuid.uuid4().hex
    try:
        made, created = again.job_again(
            job, user=request.user, key=key, same_seed=same_seed, base=references.site_base(request)
        )
    except services.JobRefused as refused:
        messages.error(request, "Not queued: " + " ".join(p.message for p in refused.problems))
        return _after_action(request, job)
    messages.success(request, "Queued again with the same seed." if same_seed else "Queued again.")
    return _after_action(request, job, new_jobs=made if created else [])


@require_POST
def retry(request, job_id):
    return _again(request, job_id, same_seed=False)


@require_POST
def rerun(request, job_id):
    job = _get_job_for_user(request, job_id)
    if job.seed is None:
        messages.error(request, "This job has no seed to reuse; use Retry.")
        return _after_action(request, job)
    return _again(request, job_id, same_seed=True)


@require_POST
def delete(request, job_id):
    job = _get_job_for_user(request, job_id)
    if not job.is_final:
        messages.error(request, "Only finished jobs can be deleted; cancel it first.")
        return _after_action(request, job)
    services.delete_job(job_id=job.pk)
    messages.success(request, "Deleted the job and its images.")
    if not request.htmx:
        return redirect("studio:home")
    return HttpResponse("")  # the card swaps itself for nothing


@require_POST
def favourite(request, job_id):
    job = _get_job_for_user(request, job_id)
    services.set_favourite(job_id=job.pk, favourite=not job.favourite)
    job.refresh_from_db()
    return _after_action(request, job)


# ---- Reference images, fetched by providers through a signed, expiring URL. ---------


@login_not_required
@require_GET
@stored_file
def reference(request, token, ext):
    ref_id = references.load_token(token)
    ref = ReferenceUpload.objects.filter(pk=ref_id).first() if ref_id else None
    # A copy of an image works while the person who made it may still see that image.
    gone = ref is not None and ref.source_image_id is not None and not _still_seen(ref)
    if ref is None or ext != ref.extension or gone:
        raise Http404("This link is wrong or has expired.")
    response = FileResponse(default_storage.open(ref.file.name), content_type=ref.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    return response


def _still_seen(ref: ReferenceUpload) -> bool:
    return ReferenceUpload.objects.visible_to(ref.owner).filter(pk=ref.pk).exists()


# ---- Colours: light, dark or the system's, remembered in a cookie and rendered as a class
# on <html>, so no JavaScript is needed to apply it. ---------------------------------

THEMES = ("system", "light", "dark")
THEME_COOKIE_SECONDS = 400 * 24 * 3600


@require_POST
def theme(request):
    chosen = request.POST.get("theme", "")
    if chosen not in THEMES:
        return HttpResponse("Choose system, light or dark.", status=400, content_type="text/plain")
    response = redirect_back(request, "studio:home")
    if chosen == "system":
        response.delete_cookie("theme")
    else:
        response.set_cookie(
            "theme",
            chosen,
            max_age=THEME_COOKIE_SECONDS,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
    return response
