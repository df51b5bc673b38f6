"""The Providers page: an admin picks how Auto routes (the strategy, the jobs before a
provider's speed is trusted, the success rate below which one is skipped)."""

import pytest

from flux2web.accounts.models import TeamPolicy
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)
    client.force_login(admin)
    return client


GOOD = {"routing": "fastest", "routing_min_jobs": "8", "routing_health_percent": "60"}


def test_the_providers_page_offers_each_strategy_with_what_it_does(admin_client, providers):
    html = admin_client.get("/providers/").content.decode()

    assert 'action="/providers/routing"' in html
    assert 'value="priority" checked' in html  # the default
    assert "Cheapest that works" in html and "Fastest that works" in html
    assert "Shortest median time from submit to stored over the last day" in html
    assert "Lowest price per image for the job" in html


def test_an_admin_switches_auto_to_fastest_that_works(admin_client, providers):
    response = admin_client.post("/providers/routing", GOOD, follow=True)

    policy = TeamPolicy.current()
    assert (policy.routing, policy.routing_min_jobs, policy.routing_health_percent) == (
        "fastest",
        8,
        60,
    )
    html = response.content.decode()
    assert "Auto now sends each job to the fastest provider that works." in html
    assert 'value="fastest" checked' in html


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("routing", "quickest", "Choose priority, cheapest that works or fastest that works."),
        ("routing_min_jobs", "0", "Ensure this value is greater than or equal to 1."),
        ("routing_min_jobs", "many", "Enter a whole number."),
        ("routing_health_percent", "101", "Ensure this value is less than or equal to 100."),
        ("routing_health_percent", "-5", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(admin_client, providers, field, value, said):
    response = admin_client.post("/providers/routing", {**GOOD, field: value})

    assert response.status_code == 400
    assert said in response.content.decode()
    assert TeamPolicy.current().routing == "priority"


def test_members_cannot_change_routing(client, owner, providers):
    client.force_login(owner)

    assert client.post("/providers/routing", GOOD).status_code == 403
    assert TeamPolicy.current().routing == "priority"


def test_it_only_takes_post(admin_client):
    assert admin_client.get("/providers/routing").status_code == 405


def test_fastest_says_its_times_include_our_polling_without_callbacks(
    admin_client, providers, settings
):
    settings.PUBLIC_URL = ""
    html = admin_client.get("/providers/").content.decode()
    assert "Times run from submit to stored" in html
    assert "without callbacks (no public address is set) they include our polling" in html
    assert "Apixo 15 s" in html and "KIE.ai 2.5 s" in html

    settings.PUBLIC_URL = "https://studio.example"
    html = admin_client.get("/providers/").content.decode()
    assert "they include our polling" not in html
