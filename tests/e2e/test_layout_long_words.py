"""Every page fits a phone when what people typed has no place to break: a brief's address
as a link's title, a provider named after its endpoint, a prompt or a comment pasted
from elsewhere. With JavaScript and without."""

import pytest
from django.test import Client
from django.utils import timezone

from flux2web.accounts import api_tokens
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs.models import Comparison, Job
from flux2web.links.models import ShareLink
from flux2web.review.models import Comment
from tests.collections.factories import make_collection, make_image
from tests.e2e.helpers import PHONE, STICKING_OUT, fits, use_session
from tests.jobs.factories import make_jobs
from tests.links.factories import share
from tests.review.owner_helpers import guest, picks, say

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "https://client.example.com/briefs/spring-campaign-2026/round-2-final-approved"


def unbroken(length: int) -> str:
    """`length` characters of addresses with no space between them."""
    return (ADDRESS * (length // len(ADDRESS) + 1))[:length]


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_every_page_fits_a_phone_with_words_that_do_not_break(
    live_server, browser, admin_user, django_user_model, providers, media, js
):
    teammate = django_user_model.objects.create_user(
        "anna.kowalska-wisniewska@client-agency.example", first_name=unbroken(60)
    )
    kie = providers["KIE.ai"]
    ProviderCredential.objects.filter(pk=kie.pk).update(name=unbroken(60))
    prompt = unbroken(400)
    images = [make_image(admin_user, prompt) for _ in range(3)]
    theirs = make_image(teammate, prompt)
    theirs.team_visible = True
    theirs.save()
    collection = make_collection(admin_user, images, title=unbroken(120))
    link, path = share(admin_user, collection=collection, title=unbroken(120), downloads="web")
    ShareLink.objects.filter(pk=link.pk).update(
        label=unbroken(80), allow_picks=True, allow_comments=True
    )
    reviewer = guest(link, unbroken(40), confirmed=True)
    picks(reviewer, images[:2])
    say(reviewer, unbroken(500), images[0])
    Comment.objects.create(author=teammate, image=images[0], body=unbroken(500))
    api_tokens.token_create(owner=admin_user, name=unbroken(80))
    (failed,) = make_jobs(admin_user, prompt=unbroken(600), aspect_ratio="1:1")
    Job.objects.filter(pk=failed.pk).update(
        state=Job.State.FAILED, error_message=unbroken(300), finished_at=timezone.now()
    )
    compared = Comparison.objects.create(owner=admin_user)
    Job.objects.filter(pk__in=[i.job_id for i in images[:2]]).update(comparison=compared)
    first, second = images[0].pk, images[1].pk
    pages = [
        "/", "/gallery/", "/gallery/team/", "/collections/", f"/collections/{collection.pk}/",
        f"/collections/{collection.pk}/activity", f"/collections/{collection.pk}/sharing",
        f"/jobs/{images[0].job_id}/", f"/jobs/{failed.pk}/", f"/comparisons/{compared.pk}/",
        f"/compare?image={first}&image={second}", f"/images/{first}/review",
        f"/images/{theirs.pk}/review", "/usage/", "/team/", "/team/usage/",
        f"/team/{teammate.pk}/", "/providers/", f"/providers/{kie.pk}/", "/links/",
        f"/links/{link.pk}/edit", f"/links/{link.pk}/review", "/team/links/", "/scoreboard/",
        "/api-tokens/", "/api-tokens/all/", path, f"{path}p/{first}",
    ]  # fmt: skip
    context = browser.new_context(viewport=PHONE, java_script_enabled=js)
    page = context.new_page()
    use_session(page, live_server, Client(), admin_user)
    visitor = browser.new_context(viewport=PHONE, java_script_enabled=js).new_page()
    too_wide = {}
    for who, address in [*((page, p) for p in pages), (visitor, path)]:
        answer = who.goto(live_server.url + address)
        assert answer.status == 200, (address, answer.status)
        if (width := fits(who)) > PHONE["width"]:
            too_wide[address] = (width, who.evaluate(STICKING_OUT, PHONE["width"]))
    context.close()
    visitor.context.close()
    assert too_wide == {}, "\n".join(f"{k}: {v}" for k, v in too_wide.items())
