"""Running the team in the app: members, quotas, spending, uncertain jobs; and each
person's own usage page."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flux2web.accounts.models import ApiToken
from flux2web.billing import ledger
from flux2web.billing.models import LedgerEntry, Quota
from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.lib.access import admin_required
from flux2web.lib.charts import bar_chart, stacked_chart
from flux2web.team import membership
from flux2web.team.forms import InviteForm, QuotaForm

User = get_user_model()
Kind = LedgerEntry.Kind
OUTRANKED = "You cannot change an account with more rights than your own."


MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def _month(request) -> tuple[date, str]:
    """?month=YYYY-MM (from 2000 to next year), else this month; with why, when it was
    asked for and cannot be shown."""
    value = request.GET.get("month", "")
    this_month = ledger.period_of()
    if not value:
        return this_month, ""
    match = MONTH.fullmatch(value)
    if match:
        year, month = int(match[1]), int(match[2])
        if 2000 <= year <= this_month.year + 1 and 1 <= month <= 12:
            return date(year, month, 1), ""
    shown = value if len(value) <= 20 else value[:20] + "…"
    return this_month, f"There is no month {shown!r} to show (use YYYY-MM, e.g. {this_month:%Y-%m})"


def _page_month(request) -> date:
    period, problem = _month(request)
    if problem:
        messages.warning(request, problem + "; showing this month.")
    return period


def set_password_link(request, user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return request.build_absolute_uri(reverse("accounts:set_password", args=[uid, token]))


def _members_context(request, *, invite=None, default_form=None, link=None):
    period = ledger.period_of()
    spent = {
        row["user"]: row
        for row in LedgerEntry.objects.filter(period=period)
        .values("user")
        .annotate(spent=Sum("delta"), images=Sum("images"))
    }
    own = set(Quota.objects.filter(user__isnull=False).values_list("user_id", flat=True))
    members = list(User.objects.order_by("-is_active", "username"))
    for member in members:
        row = spent.get(member.pk, {})
        member.month_spent = row.get("spent") or 0
        member.month_images = row.get("images") or 0
        member.own_quota = member.pk in own
    default = Quota.objects.filter(user__isnull=True).first() or Quota()
    return {
        "members": members,
        "invite": invite or InviteForm(),
        "default_form": default_form or QuotaForm(instance=default, prefix="default"),
        "link": link,
        "period": period,
    }


@require_GET
@admin_required
def members(request):
    return render(request, "team/members.html", _members_context(request))


@require_POST
@admin_required
def invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        return render(request, "team/members.html", _members_context(request, invite=form))
    data = form.cleaned_data
    member = User(
        username=data["username"],
        first_name=data["first_name"],
        email=data["email"],
        is_team_admin=data["is_team_admin"],
    )
    member.set_unusable_password()
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:  # the same name invited a moment ago (another tab): say so
        form.full_clean()
        return render(request, "team/members.html", _members_context(request, invite=form))
    # Shown in this response only: the link works once, until the password is set.
    link = (member, set_password_link(request, member))
    messages.success(request, f"Invited {member.username}.")
    return render(request, "team/members.html", _members_context(request, link=link))


@require_POST
@admin_required
def team_quota(request):
    default = Quota.objects.filter(user__isnull=True).first() or Quota()
    form = QuotaForm(request.POST, instance=default, prefix="default")
    if not form.is_valid():
        return render(request, "team/members.html", _members_context(request, default_form=form))
    ledger.set_quota(user=None, **form.cleaned_data)
    messages.success(request, "Saved the team's default limits.")
    return redirect("team:members")


@require_http_methods(["GET", "POST"])
@admin_required
def member(request, user_id):
    person = get_object_or_404(User, pk=user_id)
    own = Quota.objects.filter(user=person).first()
    form = QuotaForm(request.POST or None, instance=own or Quota(user=person))
    if request.method == "POST":
        if request.POST.get("use_default"):
            Quota.objects.filter(user=person).delete()
            messages.success(request, f"{person.username} now has the team's default limits.")
            return redirect("team:member", person.pk)
        if form.is_valid():
            ledger.set_quota(user=person, **form.cleaned_data)
            messages.success(request, f"Saved {person.username}'s own limits.")
            return redirect("team:member", person.pk)
    usage = services.usage(person)
    context = {
        "person": person,
        "form": form,
        "own": own,
        "usage": usage,
        **_job_lines(person, usage.period),
        "may_manage": request.user.may_manage(person),
        "is_self": person.pk == request.user.pk,
        "api_tokens": _api_tokens(person),
        "outranked": OUTRANKED,
    }
    return render(request, "team/member.html", context)


def _api_tokens(person) -> list[ApiToken]:
    now = timezone.now()
    tokens = list(ApiToken.objects.for_user(person).select_related("owner"))
    for token in tokens:
        token.state = token.status(now)
    return tokens


def _job_lines(person, period) -> dict:
    """team/entries.html's context: a line per job of the month and what they add up to."""
    lines, jobs = ledger.job_lines(person, period=period)
    return {"lines": lines, "lines_sum": sum(line.counted for line in lines), "jobs": jobs}


def _person_to_manage(request, user_id):
    person = get_object_or_404(User, pk=user_id)
    if not request.user.may_manage(person):
        # The member page offers nothing here; this is a hand-made request.
        raise PermissionDenied(OUTRANKED)
    return person


NOT_YOURSELF = "You cannot do that to your own account; ask another admin."


@require_POST
@admin_required
def member_deactivate(request, user_id):
    person = _person_to_manage(request, user_id)
    if person.pk == request.user.pk:
        messages.error(request, NOT_YOURSELF)
    else:
        membership.member_deactivate(person=person)
        messages.success(request, f"{person.username} can no longer sign in.")
    return redirect("team:member", person.pk)


@require_POST
@admin_required
def member_activate(request, user_id):
    person = _person_to_manage(request, user_id)
    membership.member_activate(person=person)
    messages.success(request, f"{person.username} can sign in again.")
    return redirect("team:member", person.pk)


@require_POST
@admin_required
def member_make_admin(request, user_id):
    person = _person_to_manage(request, user_id)
    membership.member_set_admin(person=person, admin=True)
    messages.success(request, f"{person.username} is now a team admin.")
    return redirect("team:member", person.pk)


@require_POST
@admin_required
def member_unmake_admin(request, user_id):
    person = _person_to_manage(request, user_id)
    if person.pk == request.user.pk:
        messages.error(request, NOT_YOURSELF)
    elif person.is_superuser:
        messages.error(
            request,
            f"{person.username} is the site's superuser and stays an "
            "admin; change that in Django admin.",
        )
    else:
        membership.member_set_admin(person=person, admin=False)
        messages.success(request, f"{person.username} is no longer a team admin.")
    return redirect("team:member", person.pk)


@require_POST
@admin_required
def member_new_link(request, user_id):
    person = _person_to_manage(request, user_id)
    context = {"person": person, "link": set_password_link(request, person)}
    return render(request, "team/link.html", context)


# ---- Usage. ----------------------------------------------------------------------------


def _days(period: date) -> list[date]:
    end = min(ledger.next_period(period), timezone.localdate() + timedelta(days=1))
    return [period + timedelta(days=n) for n in range((end - period).days)]


def _daily(entries, period: date, field: str):
    """(day, total) for each day of the month so far, from entries with an `at`."""
    by_day: dict[date, float] = {}
    for at, value in entries.values_list("at", field):
        day = timezone.localtime(at).date()
        by_day[day] = by_day.get(day, 0) + float(value)
    return [(day.day, round(by_day.get(day, 0), 4)) for day in _days(period)]


def _daily_by_provider(entries, period: date):
    """(day, {provider: total}) for each day of the month so far."""
    by_day: dict[date, dict[str, float]] = {}
    # The entry's provider, else its job's (a reservation is made before one is chosen).
    named = entries.annotate(who=Coalesce("provider__name", "job__provider__name"))
    for at, name, value in named.values_list("at", "who", "delta"):
        parts = by_day.setdefault(timezone.localtime(at).date(), {})
        parts[name or "No provider"] = parts.get(name or "No provider", 0) + float(value)
    return [(day.day, by_day.get(day, {})) for day in _days(period)]


@require_GET
def my_usage(request):
    period = _page_month(request)
    mine = LedgerEntry.objects.filter(user=request.user, period=period)
    context = {
        "usage": services.usage(request.user, period=period),
        "period": period,
        "spend_chart": bar_chart(
            "Spend per day", _daily(mine.exclude(kind=Kind.HOLD), period, "delta"), money=True
        ),
        "image_chart": bar_chart("Images per day", _daily(mine, period, "images")),
        **_job_lines(request.user, period),
    }
    return render(request, "team/usage.html", context)


@require_GET
@admin_required
def dashboard(request):
    period = _page_month(request)
    month = LedgerEntry.objects.filter(period=period)
    per_user = list(
        month.values("user__username")
        .annotate(spent=Sum("delta"), images=Sum("images"))
        .order_by("-spent")
    )
    settled = month.filter(kind=Kind.SETTLE)
    per_provider = list(
        settled.values("provider__name")
        .annotate(spent=Sum("amount"), jobs=Count("pk"))
        .order_by("-spent")
    )
    context = {
        "period": period,
        "total": month.aggregate(spent=Sum("delta"))["spent"] or 0,
        "per_user": per_user,
        "per_provider": per_provider,
        "user_chart": bar_chart(
            "Spend per person",
            [(r["user__username"], r["spent"] or 0) for r in per_user],
            money=True,
        ),
        "provider_chart": bar_chart(
            "Spend per provider",
            [(r["provider__name"] or "–", r["spent"] or 0) for r in per_provider],
            money=True,
            toned=True,
        ),
        "day_chart": stacked_chart(
            "Spend per day, by provider",
            _daily_by_provider(month.exclude(kind=Kind.HOLD), period),
            money=True,
        ),
        "in_flight": Job.objects.in_flight().aggregate(
            n=Count("pk"), queued=Count("pk", filter=Q(state=Job.State.QUEUED))
        ),
        "uncertain": list(services.unresolved_uncertain()[:100]),
        "months": _recent_months(),
    }
    return render(request, "team/dashboard.html", context)


def _recent_months(n: int = 12) -> list[date]:
    months, current = [], ledger.period_of()
    for _ in range(n):
        months.append(current)
        current = (current - timedelta(days=1)).replace(day=1)
    return months


@require_GET
@admin_required
def usage_csv(request):
    period, problem = _month(request)
    if problem:  # a download of another month than asked for would mislead
        return HttpResponseBadRequest(problem + ".", content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="flux2web-{period:%Y-%m}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "at",
            "user",
            "job",
            "kind",
            "amount_usd",
            "counts_usd",
            "images",
            "provider",
            "model",
            "note",
        ]
    )
    entries = (
        LedgerEntry.objects.filter(period=period)
        .select_related("user", "job", "provider")
        .order_by("at", "pk")
    )
    for e in entries.iterator():
        writer.writerow(
            [
                timezone.localtime(e.at).isoformat(timespec="seconds"),
                _csv_safe(e.user.username),
                e.job_id,
                e.kind,
                e.amount,
                e.delta,
                e.images,
                _csv_safe(e.provider.name if e.provider else ""),
                _csv_safe(e.job.model),
                _csv_safe(e.note),
            ]
        )
    return response


# What makes a spreadsheet read a cell as a formula (or, for tab and CR, hides one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(text: str) -> str:
    """Any text a person chose (usernames, provider names, notes) as inert text: a leading
    quote. Numbers are written by us and stay numbers, so a refund's -0.05 still sums."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@require_POST
@admin_required
def resolve(request, job_id):
    decision = request.POST.get("decision")
    if decision not in ("charged", "refunded"):
        messages.error(request, "Choose charged or refunded.")
        return redirect("team:dashboard")
    done = services.resolve_uncertain(job_id=job_id, charged=decision == "charged", by=request.user)
    if done:
        messages.success(request, f"Job {job_id} marked {decision}.")
    else:
        messages.warning(request, f"Job {job_id} is not an unresolved uncertain job.")
    return redirect("team:dashboard")
