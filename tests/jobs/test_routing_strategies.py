"""Auto's strategies: priority, cheapest that works, fastest that works (by the providers'
record), each skipping a provider failing lately until a trial job finds it working again,
and saying why it chose. Run through the sandbox, no job is sent to a provider twice."""

import itertools
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from flux2web.accounts.models import TeamPolicy
from flux2web.jobs import routing, services
from flux2web.jobs.models import Job
from flux2web.scores import tally
from tests.jobs.factories import make_jobs, run_to_the_end

pytestmark = pytest.mark.django_db
S = Job.State
ORDER = ["LiangXin", "KIE.ai", "Apikley", "Apixo", "APIMart"]
_keys = itertools.count()


def use(strategy, **fields):
    TeamPolicy.objects.update_or_create(pk=1, defaults={"routing": strategy, **fields})


def timed(credential, seconds, times=5, *, model="pro", at=None):
    """`times` jobs at this provider that took `seconds` from submit to stored."""
    for _ in range(times):
        outcome = tally.Outcome("succeeded", seconds=seconds, images=1)
        tally.add(credential.pk, model, outcome, at=at)


def ended(credential, owner, states, *, ago=timedelta(seconds=5)):
    """Jobs that finished at this provider, newest first as listed, the newest `ago` ago."""
    now = timezone.now()
    for n, state in enumerate(states):
        Job.objects.create(
            owner=owner,
            idempotency_key=f"ended-{next(_keys)}",
            model="pro",
            prompt="an ended job",
            provider=credential,
            state=state,
            submitted_at=now - ago - timedelta(seconds=n + 10),
            finished_at=now - ago - timedelta(seconds=n),
        )


def names(choices):
    return [c.credential.name for c in choices]


def price(credential, cost, resolutions=("1K", "2K")):
    credential.prices = {"pro": dict.fromkeys(resolutions, cost)}
    credential.save()


# ---- The order each strategy gives, and its words. ------------------------------------


def test_priority_sends_auto_to_the_lowest_priority_number_first(providers):
    use("priority")

    choices = routing.route("pro", None)

    assert names(choices) == ORDER
    assert choices[0].reason == "LiangXin: first by priority"
    assert choices[1].reason == "KIE.ai: 2nd by priority"
    assert [c.name for c in routing.candidates("pro", None)] == ORDER


def test_cheapest_goes_by_each_providers_price_for_the_model_and_resolution(providers):
    use("cheapest")
    price(providers["Apixo"], "0.03", ["1K"])
    price(providers["KIE.ai"], "0.04")
    providers["Apixo"].prices["pro"]["2K"] = "0.09"
    providers["Apixo"].save()

    at_1k = routing.route("pro", None, resolution="1K")
    at_2k = routing.route("pro", None, resolution="2K")

    assert names(at_1k)[:2] == ["Apixo", "KIE.ai"]
    assert at_1k[0].reason == "Apixo: cheapest, $0.03 an image"
    assert at_1k[1].reason == "KIE.ai: 2nd cheapest, $0.04 an image"
    assert names(at_2k)[0] == "KIE.ai"
    assert names(at_2k)[-1] == "Apixo"  # dearest at 2K


def test_cheapest_breaks_a_tie_by_priority(providers):
    use("cheapest")
    price(providers["Apixo"], "0.02")
    price(providers["APIMart"], "0.02")

    choices = routing.route("pro", None, resolution="1K")

    assert names(choices)[:2] == ["Apixo", "APIMart"]
    assert (
        choices[0].reason
        == "Apixo: cheapest, $0.02 an image (tied with 1 other; first by priority)"
    )
    assert (
        choices[1].reason
        == "APIMart: cheapest, $0.02 an image (tied with 1 other; 2nd by priority)"
    )


def test_fastest_goes_by_the_median_over_the_last_day_of_providers_with_enough_jobs(providers):
    use("fastest")
    timed(providers["Apixo"], 14, 5)
    timed(providers["Apixo"], 40, 1)  # one slow job does not move the median
    timed(providers["KIE.ai"], 20, 5)
    timed(providers["LiangXin"], 5, 4)  # faster, but 4 jobs are too few to trust

    choices = routing.route("pro", None)

    assert names(choices) == ["Apixo", "KIE.ai", "LiangXin", "Apikley", "APIMart"]
    assert choices[0].reason == "Apixo: fastest over the last day, 14 s median"
    assert choices[1].reason == "KIE.ai: 2nd fastest over the last day, 20 s median"
    assert choices[2].reason == (
        "LiangXin: by priority, its speed not known yet (4 of 5 jobs over the last day)"
    )


def test_the_admin_sets_how_many_jobs_make_a_figure_trusted(providers):
    use("fastest", routing_min_jobs=3)
    timed(providers["Apixo"], 14, 5)
    timed(providers["LiangXin"], 5, 3)

    assert names(routing.route("pro", None))[:2] == ["LiangXin", "Apixo"]


def test_fastest_reads_only_the_last_day_and_the_model_asked_for(providers):
    use("fastest")
    timed(providers["LiangXin"], 2, 10, at=timezone.now() - timedelta(hours=26))
    timed(providers["KIE.ai"], 2, 10, model="flex")
    timed(providers["Apixo"], 14, 5)

    assert names(routing.route("pro", None))[:3] == ["Apixo", "LiangXin", "KIE.ai"]


def test_fastest_without_any_figure_says_it_went_by_priority(providers):
    use("fastest")

    choices = routing.route("pro", None)

    assert names(choices) == ORDER
    assert choices[0].reason == (
        "LiangXin: first by priority; no provider has 5 jobs over the last day to judge "
        "speed by yet"
    )


def test_fastest_breaks_a_tie_by_priority(providers):
    use("fastest")
    timed(providers["APIMart"], 9)
    timed(providers["Apikley"], 9)

    assert names(routing.route("pro", None))[:2] == ["Apikley", "APIMart"]


# ---- Health: skipped while failing, one trial job at a time, back once it works. --------

FAILING = [S.FAILED] * 8 + [S.SUCCEEDED] * 2  # newest first: 2 of the last 10 succeeded


@pytest.mark.parametrize("strategy", ["priority", "cheapest", "fastest"])
def test_a_provider_failing_in_the_last_hour_is_skipped_by_every_strategy(
    providers, owner, strategy
):
    use(strategy)
    timed(providers["Apixo"], 3)
    price(providers["Apixo"], "0.01")
    providers["Apixo"].priority = 1
    providers["Apixo"].save()
    ended(providers["Apixo"], owner, FAILING)

    choices = routing.route("pro", None, resolution="1K")
    health = routing.provider_health()[providers["Apixo"].pk]

    assert "Apixo" not in names(choices)
    assert choices[0].reason.endswith(
        "(Apixo skipped: 2 of its last 10 jobs succeeded in the last hour)"
    )
    assert health.skipped
    assert health.words == "skipped by Auto: 2 of its last 10 jobs succeeded in the last hour"
    assert not routing.provider_health()[providers["KIE.ai"].pk].skipped


def test_a_few_failures_cancelled_jobs_and_older_ones_do_not_drop_a_provider(providers, owner):
    use("priority")
    liangxin = providers["LiangXin"]
    ended(liangxin, owner, [S.FAILED] * 4)  # too few to judge
    ended(liangxin, owner, [S.CANCELLED] * 6)  # the person's doing, not the vendor's
    ended(liangxin, owner, [S.FAILED] * 10, ago=timedelta(hours=2))
    ended(liangxin, owner, [S.FAILED] * 4)  # failed before it accepted them: not its doing
    never_sent = Job.objects.filter(provider=liangxin).order_by("-pk")[:4]
    Job.objects.filter(pk__in=[j.pk for j in never_sent]).update(submitted_at=None)

    assert names(routing.route("pro", None))[0] == "LiangXin"
    assert not routing.provider_health()[liangxin.pk].skipped


def test_the_admin_sets_the_success_rate_below_which_a_provider_is_skipped(providers, owner):
    liangxin = providers["LiangXin"]
    ended(liangxin, owner, [S.FAILED, S.SUCCEEDED] * 2 + [S.SUCCEEDED] * 2)  # 4 of 6

    use("priority", routing_health_percent=50)
    assert names(routing.route("pro", None))[0] == "LiangXin"
    use("priority", routing_health_percent=70)
    assert "LiangXin" not in names(routing.route("pro", None))
    use("priority", routing_health_percent=0)  # never skips
    Job.objects.filter(provider=liangxin).update(state=S.FAILED)
    assert names(routing.route("pro", None))[0] == "LiangXin"


def test_a_skipped_provider_gets_one_trial_job_once_it_has_been_quiet_a_while(
    providers, owner, settings
):
    settings.ROUTING_TRIAL_SECONDS = 60
    use("fastest")
    timed(providers["KIE.ai"], 20)
    apixo = providers["Apixo"]
    ended(apixo, owner, FAILING, ago=timedelta(seconds=90))

    choices = routing.route("pro", None)

    assert names(choices)[:2] == ["Apixo", "KIE.ai"]
    assert choices[0].reason == (
        "Apixo: a trial job: yours is sent there to see whether it works again "
        "(2 of its last 10 jobs succeeded in the last hour)"
    )
    assert routing.provider_health()[apixo.pk].trial_due

    # While the trial is out, nothing else goes there.
    (trial,) = make_jobs(owner, prompt="the trial")
    Job.objects.filter(pk=trial.pk).update(
        provider=apixo, state=S.RUNNING, submitted_at=timezone.now()
    )
    assert "Apixo" not in names(routing.route("pro", None))

    # Failed: quiet again for the interval before the next trial.
    Job.objects.filter(pk=trial.pk).update(state=S.FAILED, finished_at=timezone.now())
    assert "Apixo" not in names(routing.route("pro", None))


def test_successes_after_the_fault_bring_a_provider_back(providers, owner):
    use("priority")
    liangxin = providers["LiangXin"]
    ended(liangxin, owner, [S.SUCCEEDED] * 2 + [S.FAILED] * 8)
    assert "LiangXin" not in names(routing.route("pro", None))

    ended(liangxin, owner, [S.SUCCEEDED], ago=timedelta(seconds=1))
    health = routing.provider_health()[liangxin.pk]

    assert names(routing.route("pro", None))[0] == "LiangXin"
    assert not health.skipped
    assert health.words == (
        "back in Auto: its last 3 jobs succeeded (3 of its last 10 in the last hour)"
    )


def test_when_every_provider_is_failing_auto_still_tries_them_and_says_so(providers, owner):
    use("priority")
    for credential in providers.values():
        ended(credential, owner, [S.FAILED] * 5)

    choices = routing.route("pro", None)

    assert names(choices) == ORDER
    assert choices[0].reason == (
        "LiangXin: first by priority; every provider is failing lately, so Auto tries them anyway"
    )


def test_a_provider_the_person_named_is_never_skipped(providers, owner):
    apixo = providers["Apixo"]
    ended(apixo, owner, [S.FAILED] * 10)

    assert [(c.credential, c.reason) for c in routing.route("pro", apixo)] == [(apixo, "")]
    assert routing.candidates("pro", apixo) == [apixo]


# ---- At submit time: the reason is kept, the price follows the first choice. -----------


@pytest.fixture
def private_sandbox(settings, sandbox, media):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})
    return sandbox


def test_an_auto_job_keeps_why_it_went_where_it_went(providers, owner, private_sandbox):
    use("fastest")
    timed(providers["Apixo"], 14)
    price(providers["Apixo"], "0.07")

    (job,) = make_jobs(owner, prompt="a fox", aspect_ratio="1:1")
    assert job.price == Decimal("0.07")  # reserved at the first choice's price
    assert services.submit_job(job_id=job.pk) == "submitted"

    job.refresh_from_db()
    assert job.provider.name == "Apixo"
    assert job.route_reason == "Apixo: fastest over the last day, 14 s median"


def test_a_job_for_a_named_provider_has_no_route_reason(providers, owner, private_sandbox):
    use("fastest")
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")

    services.submit_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.provider.name == "KIE.ai"
    assert job.route_reason == ""


def test_a_job_that_fails_over_says_who_did_not_take_it(providers, owner, private_sandbox):
    use("fastest")
    timed(providers["Apixo"], 14)
    timed(providers["KIE.ai"], 20)
    private_sandbox.inject("500", dialect="apixo")

    (job,) = make_jobs(owner, aspect_ratio="1:1")
    services.submit_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.provider.name == "KIE.ai"
    assert job.route_reason == (
        "KIE.ai: 2nd fastest over the last day, 20 s median; Apixo did not take it"
    )


def test_a_failing_provider_drops_out_comes_back_and_no_job_is_sent_twice(
    providers, owner, private_sandbox, settings
):
    """Apixo, the fastest, starts failing every task: after a few failed jobs Auto sends
    the rest to KIE.ai; once it works again a trial job finds it, and it is back."""
    settings.ROUTING_TRIAL_SECONDS = 1
    use("fastest")
    timed(providers["Apixo"], 3)
    timed(providers["KIE.ai"], 10)
    config = f"{private_sandbox.url}/_sandbox/config"
    assert httpx.post(config, json={"profile": "apixo:fail=1", "seed": 7}).status_code == 200
    prompts = (f"a lighthouse, take {n}" for n in itertools.count())

    def run():
        (job,) = make_jobs(owner, prompt=next(prompts), aspect_ratio="1:1")
        return run_to_the_end(job)

    failed = [run() for _ in range(5)]
    assert {(j.provider.name, j.state) for j in failed} == {("Apixo", S.FAILED)}

    moved = run()
    assert (moved.provider.name, moved.state) == ("KIE.ai", S.SUCCEEDED)
    assert moved.route_reason.endswith(
        "(Apixo skipped: 0 of its last 5 jobs succeeded in the last hour)"
    )

    assert httpx.post(config, json={"profile": None}).status_code == 200
    trials = []
    while len(trials) < 3:
        time.sleep(1.1)  # quiet for the trial interval
        trials.append(run())
    assert {(j.provider.name, j.state) for j in trials} == {("Apixo", S.SUCCEEDED)}
    assert all(j.route_reason.startswith("Apixo: a trial job") for j in trials)

    back = run()
    assert back.provider.name == "Apixo"
    assert back.route_reason == "Apixo: fastest over the last day, 3 s median"

    # Each job was created at one provider, once.
    tasks = Counter(task.prompt for task in private_sandbox.tasks.values())
    assert set(tasks.values()) == {1}
    assert len(tasks) == Job.objects.count()


def test_a_provider_refusing_every_create_costs_no_job_a_second_send(
    providers, owner, private_sandbox
):
    use("priority")
    private_sandbox.set_profile("liangxin:fail=1/500", seed=3)

    jobs = []
    for n in range(4):
        (job,) = make_jobs(owner, prompt=f"a harbour, take {n}", aspect_ratio="1:1")
        jobs.append(run_to_the_end(job))

    assert {(j.provider.name, j.state) for j in jobs} == {("KIE.ai", S.SUCCEEDED)}
    assert all(j.route_reason == "KIE.ai: 2nd by priority; LiangXin did not take it" for j in jobs)
    tasks = Counter(task.prompt for task in private_sandbox.tasks.values())
    assert sorted(tasks.values()) == [1, 1, 1, 1]
    assert private_sandbox.snapshot()["create_requests:liangxin"] == 4


@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_at_once_gives_a_skipped_provider_one_trial_job_not_four(
    providers, owner, private_sandbox, settings
):
    """Four workers sending a batch's four jobs at the same moment each find the trial
    due; only the first to record where its job goes takes it, the others move on."""
    settings.ROUTING_TRIAL_SECONDS = 60
    use("priority")
    apixo = providers["Apixo"]
    apixo.priority = 1
    apixo.save()
    ended(apixo, owner, FAILING, ago=timedelta(seconds=90))
    batch = make_jobs(owner, prompt="a batch at once", count=4, aspect_ratio="1:1")
    start = threading.Barrier(len(batch))

    def send(job_id):
        start.wait()
        try:
            services.submit_job(job_id=job_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(j.pk,)) for j in batch]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    went = Counter(
        Job.objects.filter(pk__in=[j.pk for j in batch]).values_list("provider__name", flat=True)
    )
    assert went == {"Apixo": 1, "LiangXin": 3}
    tasks = Counter(task.mount for task in private_sandbox.tasks.values())
    assert tasks == {"apixo": 1, "liangxin": 3}


def test_jobs_whose_answer_was_lost_count_as_failures_and_drop_a_provider(providers, owner):
    """An uncertain job never finishes (its answer was lost, an admin decides): Auto still
    counts it against the provider, as the scoreboard does, from when it went uncertain."""
    use("priority")
    liangxin = providers["LiangXin"]
    ended(liangxin, owner, [S.SUCCEEDED] * 2, ago=timedelta(minutes=5))
    for n in range(6):
        Job.objects.create(
            owner=owner, idempotency_key=f"lost-{n}", model="pro", prompt="lost",
            provider=liangxin, state=S.UNCERTAIN,
        )  # fmt: skip
    Job.objects.create(
        owner=owner, idempotency_key="lost-long-ago", model="pro", prompt="lost",
        provider=providers["KIE.ai"], state=S.UNCERTAIN,
    )  # fmt: skip
    Job.objects.filter(idempotency_key="lost-long-ago").update(
        updated_at=timezone.now() - timedelta(hours=2)
    )

    health = routing.provider_health()

    assert health[liangxin.pk].skipped
    assert health[liangxin.pk].words == (
        "skipped by Auto: 2 of its last 8 jobs succeeded in the last hour"
    )
    assert "LiangXin" not in names(routing.route("pro", None))
    assert health[providers["KIE.ai"].pk].finished == 0  # lost two hours ago: not this hour


def test_a_provider_refusing_every_create_drops_out_of_auto(providers, owner, private_sandbox):
    """Refused creates (a 500 pauses nothing) weigh in health: after a few, Auto stops
    trying the refuser first for every job."""
    use("priority")
    private_sandbox.set_profile("liangxin:fail=1/500", seed=3)
    for n in range(6):
        (job,) = make_jobs(owner, prompt=f"a quay, take {n}", aspect_ratio="1:1")
        run_to_the_end(job)
    assert private_sandbox.snapshot()["create_requests:liangxin"] == 5

    health = routing.provider_health()[providers["LiangXin"].pk]
    assert health.skipped
    assert health.words == "skipped by Auto: 0 of its last 5 jobs succeeded in the last hour"


def test_a_refused_trial_is_a_failed_trial_one_create_per_quiet_interval(
    providers, owner, private_sandbox, settings
):
    settings.ROUTING_TRIAL_SECONDS = 60
    use("priority")
    apixo = providers["Apixo"]
    apixo.priority = 1
    apixo.save()
    ended(apixo, owner, FAILING, ago=timedelta(seconds=90))
    private_sandbox.set_profile("apixo:fail=1/500", seed=3)

    jobs = []
    for n in range(4):
        (job,) = make_jobs(owner, prompt=f"a pier, take {n}", aspect_ratio="1:1")
        jobs.append(run_to_the_end(job))

    assert private_sandbox.snapshot()["create_requests:apixo"] == 1
    assert {(j.provider.name, j.state) for j in jobs} == {("LiangXin", S.SUCCEEDED)}
    assert not routing.provider_health()[apixo.pk].trial_due


def test_the_reservation_is_at_the_first_choice_that_is_not_a_trial(providers, owner, settings):
    settings.ROUTING_TRIAL_SECONDS = 60
    use("cheapest")
    price(providers["Apixo"], "0.09")
    price(providers["KIE.ai"], "0.02")
    ended(providers["Apixo"], owner, FAILING, ago=timedelta(seconds=90))
    assert routing.route("pro", None, resolution="1K")[0].trial

    (job,) = make_jobs(owner, prompt="reserved where it will likely go", resolution="1K")

    assert job.price == Decimal("0.02")
