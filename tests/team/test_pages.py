"""The team's pages: members and invitations, limits, spending, CSV, uncertain jobs;
403 for members, sign-in for anonymous visitors."""

import csv
import io
import re
from decimal import Decimal

import pytest

from flux2web.billing.models import LedgerEntry, Quota
from flux2web.jobs import services
from flux2web.jobs.models import Job
from tests.helpers import PASSWORD
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State
ADMIN_PAGES = [("get", "/team/"), ("post", "/team/invite"), ("post", "/team/quota"),
               ("get", "/team/usage/"), ("get", "/team/usage.csv"), ("get", "/providers/"),
               ("get", "/providers/add")]  # fmt: skip


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)


@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES)
def test_admin_pages_refuse_members_and_send_visitors_to_sign_in(client, owner, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(owner)
    response = getattr(client, method)(url)
    assert response.status_code == 403
    assert "Only team admins can do this." in response.content.decode()


def test_an_admin_invites_a_member_who_sets_a_password_once_and_is_signed_in(client, admin):
    client.force_login(admin)
    html = client.post("/team/invite", {"username": "nadia", "first_name": "Nadia"}).content
    html = html.decode()
    link = re.search(r'value="(http://testserver/accounts/set-password/[^"]+)"', html)[1]
    assert "shown only now" in html
    client.logout()
    path = link.removeprefix("http://testserver")
    form = client.get(path, follow=True)
    assert "Set your password" in form.content.decode()
    new = {"new_password1": "a long new pass 123", "new_password2": "a long new pass 123"}
    done = client.post(form.redirect_chain[-1][0], new, follow=True)
    # Signed in at once, in the studio.
    assert done.redirect_chain[-1][0] == "/"
    assert "Your password is set, and you are signed in." in done.content.decode()
    assert done.context["user"].username == "nadia"
    client.logout()
    assert client.login(username="nadia", password="a long new pass 123")
    client.logout()
    assert "no longer works" in client.get(path, follow=True).content.decode()


def test_an_invitation_with_a_taken_username_is_explained(client, admin, owner):
    client.force_login(admin)
    html = client.post("/team/invite", {"username": "OLIVIA"}).content.decode()
    assert "&#x27;OLIVIA&#x27; is taken" in html


def test_deactivating_a_member_keeps_them_out(client, admin, owner):
    client.force_login(admin)
    client.post(f"/team/{owner.pk}/deactivate")
    assert not client.login(username="olivia", password=PASSWORD)
    client.force_login(admin)
    client.post(f"/team/{owner.pk}/activate")
    assert client.login(username="olivia", password=PASSWORD)


def test_making_and_unmaking_an_admin_and_not_oneself(client, admin, owner):
    client.force_login(admin)
    client.post(f"/team/{owner.pk}/make-admin")
    owner.refresh_from_db()
    assert owner.is_admin
    client.post(f"/team/{owner.pk}/unmake-admin")
    owner.refresh_from_db()
    assert not owner.is_admin
    response = client.post(f"/team/{admin.pk}/deactivate", follow=True)
    assert "You cannot do that to your own account" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_limits_for_the_team_and_for_one_person(client, admin, owner):
    client.force_login(admin)
    client.post("/team/quota", {"default-monthly_usd": "5.00", "default-max_in_flight": "3"})
    default = Quota.objects.get(user__isnull=True)
    assert (default.monthly_usd, default.monthly_images, default.max_in_flight) == (
        Decimal("5.00"), None, 3)  # fmt: skip
    client.post(f"/team/{owner.pk}/", {"monthly_usd": "1.50", "monthly_images": "20"})
    assert Quota.objects.get(user=owner).monthly_usd == Decimal("1.50")
    client.post(f"/team/{owner.pk}/", {"use_default": "1"})
    assert not Quota.objects.filter(user=owner).exists()


def test_bad_limits_are_explained_and_change_nothing(client, admin):
    client.force_login(admin)
    html = client.post("/team/quota", {"default-monthly_usd": "-1",
                                       "default-max_in_flight": "0"}).content.decode()  # fmt: skip
    assert "A limit cannot be negative." in html
    assert "Allow at least one job in flight, or leave it empty." in html
    assert not Quota.objects.exists()


def spend(owner, providers):
    kie, apixo = providers["KIE.ai"], providers["Apixo"]
    done = make_jobs(owner, prompt="made", provider=kie, aspect_ratio="1:1")[0]
    services.transition(done.pk, from_states=[S.QUEUED], to=S.SUCCEEDED, provider=kie)
    lost = make_jobs(owner, prompt="lost", provider=apixo, aspect_ratio="1:1")[0]
    services.transition(lost.pk, from_states=[S.QUEUED], to=S.FAILED, provider=apixo)
    maybe = make_jobs(owner, prompt="maybe", provider=apixo, aspect_ratio="1:1")[0]
    services.transition(maybe.pk, from_states=[S.QUEUED], to=S.UNCERTAIN, provider=apixo)
    return done, lost, maybe


def test_a_person_sees_their_own_usage(client, owner, providers):
    spend(owner, providers)
    client.force_login(owner)
    html = client.get("/usage/").content.decode()
    assert "$0.10" in html  # $0.05 charged + $0.05 held
    assert ">charged<" in html and ">refunded<" in html and ">held<" in html
    assert '<svg width="100%"' in html and 'aria-label="Spend per day"' in html
    assert client.get("/usage/?month=nonsense").status_code == 200
    assert client.post("/usage/").status_code == 405


def test_the_dashboard_shows_spend_per_person_and_provider_and_resolves(
    client, admin, owner, providers
):
    done, _, maybe = spend(owner, providers)
    client.force_login(admin)
    html = client.get("/team/usage/").content.decode()
    assert "olivia" in html and "KIE.ai" in html
    assert 'aria-label="Spend per person"' in html and 'aria-label="Spend per provider"' in html
    assert f'data-job-id="{maybe.pk}"' in html
    client.post(f"/team/uncertain/{maybe.pk}", {"decision": "refunded"})
    assert LedgerEntry.objects.filter(job=maybe, kind="refund").exists()
    assert f'data-job-id="{maybe.pk}"' not in client.get("/team/usage/").content.decode()
    response = client.post(f"/team/uncertain/{done.pk}", {"decision": "charged"}, follow=True)
    assert "is not an unresolved uncertain job" in response.content.decode()
    response = client.post(f"/team/uncertain/{maybe.pk}", {"decision": "maybe"}, follow=True)
    assert "Choose charged or refunded." in response.content.decode()


def test_the_csv_export_lists_every_entry(client, admin, owner, providers):
    spend(owner, providers)
    client.force_login(admin)
    response = client.get("/team/usage.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(r["kind"] for r in rows) == ["hold", "refund", "reserve", "reserve", "reserve",
                                               "settle"]  # fmt: skip
    assert {r["user"] for r in rows} == {"olivia"}
    settle = next(r for r in rows if r["kind"] == "settle")
    assert (settle["amount_usd"], settle["provider"]) == ("0.0500", "KIE.ai")


def test_an_unknown_member_action_is_not_found_and_changes_nothing(client, admin, owner):
    client.force_login(admin)
    assert client.post(f"/team/{owner.pk}/promote-to-king").status_code == 404
    owner.refresh_from_db()
    assert owner.is_active and not owner.is_team_admin


@pytest.mark.parametrize(
    "month", ["9999-12", "0000-01", "2026-13", "99999999999999999999-01", "2026-1-1", "-1-05"]
)
def test_a_month_that_cannot_be_shown_falls_back_to_this_month_with_a_message(client, admin, month):
    client.force_login(admin)
    for url in ("/usage/", "/team/usage/"):
        response = client.get(url, {"month": month})
        assert response.status_code == 200, url
        assert "showing this month" in response.content.decode()


@pytest.mark.parametrize("month", ["9999-12", "2026-13", "99999999999999999999-01"])
def test_the_csv_of_a_month_that_cannot_be_shown_is_a_clear_400(client, admin, month):
    client.force_login(admin)
    response = client.get("/team/usage.csv", {"month": month})
    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()


def test_the_csv_export_neutralises_spreadsheet_formulas(
    client, admin, django_user_model, providers
):
    sneaky = django_user_model.objects.create_user("@SUM(1+1)", password=PASSWORD)
    kie = providers["KIE.ai"]
    kie.name = '=HYPERLINK("http://x","y")'
    kie.save()
    done = make_jobs(sneaky, prompt="made", provider=kie, aspect_ratio="1:1")[0]
    services.transition(done.pk, from_states=[S.QUEUED], to=S.SUCCEEDED, provider=kie)
    client.force_login(admin)
    rows = list(csv.reader(io.StringIO(client.get("/team/usage.csv").content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'@SUM(1+1)" in cells and """'=HYPERLINK("http://x","y")""" in cells
    for cell in cells:
        assert cell[:1] not in ("=", "+", "@", "\t", "\r"), cell
        if cell.startswith("-"):  # only our own numbers, such as a refund, start with -
            float(cell)


def test_overflowing_limits_are_field_errors_and_change_nothing(client, admin, owner):
    client.force_login(admin)
    huge = "99999999999999999999"
    html = client.post("/team/quota", {"default-monthly_images": huge,
                                       "default-max_in_flight": huge}).content.decode()  # fmt: skip
    assert html.count("Ensure this value is less than or equal to") == 2
    html = client.post(f"/team/{owner.pk}/", {"monthly_usd": huge}).content.decode()
    assert "Ensure that there are no more than" in html
    assert not Quota.objects.exists()
