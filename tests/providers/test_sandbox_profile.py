"""The sandbox's providers, each at its own speed, price and failure rate (a profile), over
real loopback sockets; and the profile's format, refused with the bad part named."""

import contextlib
import subprocess
import sys
import time

import httpx
import pytest

from flux2web.core.management.commands.up import Command as Up
from flux2web.providers import client_for
from flux2web.providers.sandbox import Sandbox, SandboxConfig
from flux2web.providers.sandbox.profile import (
    BUILT_IN,
    ENV,
    ProfileError,
    parse_profile,
    resolve,
)
from flux2web.providers.types import (
    ErrorClass,
    GenerationRequest,
    Model,
    ProviderError,
    TaskState,
)
from tests.helpers import ROOT, subprocess_env
from tests.providers.helpers import follow

REQUEST = GenerationRequest(model=Model.PRO, prompt="a lighthouse at dusk")


@contextlib.contextmanager
def profiled(text, *, seed=None, duration=0.05):
    """A sandbox of its own with this profile, and a client maker for its mounts."""
    config = SandboxConfig(duration=duration, profile=parse_profile(text), seed=seed)
    clients = []
    with Sandbox(config=config) as sandbox:

        def client(mount):
            dialect = "kie" if mount == "apikley" else mount
            made = client_for(dialect, base_url=sandbox.base_url(mount), api_key="sandbox-key")
            clients.append(made)
            return made

        sandbox.client = client
        try:
            yield sandbox
        finally:
            for made in clients:
                made.close()


def test_a_provider_profiled_slow_is_still_working_when_a_fast_one_is_done():
    with profiled("kie:speed=2; liangxin:speed=0.1") as sandbox:
        slow, fast = sandbox.client("kie"), sandbox.client("liangxin")
        slow_task = slow.create(REQUEST).task_id
        fast_task = fast.create(REQUEST).task_id

        done, _ = follow(fast, fast_task)
        still = slow.status(slow_task)
        finished, _ = follow(slow, slow_task)

    assert done.state is TaskState.SUCCEEDED
    assert not still.state.is_final
    assert finished.state is TaskState.SUCCEEDED
    # What each vendor reports as the task's own time says the same.
    assert finished.raw["data"]["costTime"] == 2000
    assert done.raw["data"]["costTime"] == 100


def test_a_spread_varies_the_time_within_it_and_a_seed_repeats_it():
    def times(seed):
        with profiled("apimart:speed=50±20", seed=seed) as sandbox:
            client = sandbox.client("apimart")
            ids = [client.create(REQUEST).task_id for _ in range(12)]
            return [sandbox.get_task(i).duration for i in ids]

    first, again, other = times(7), times(7), times(8)

    assert first == again
    assert first != other
    assert all(30 <= t <= 70 for t in first + other)
    assert len(set(first)) > 6


def test_providers_not_in_the_profile_keep_the_sandbox_duration():
    with profiled("kie:speed=40", duration=0.05) as sandbox:
        task = sandbox.client("apixo").create(REQUEST).task_id
        assert sandbox.get_task(task).duration == 0.05


# (mount, failure class, the error class the app reads, the vendor's failCode if any)
FAILING = [
    ("apixo", "content", ErrorClass.CONTENT_POLICY, "CONTENT_VIOLATION"),
    ("kie", "content", ErrorClass.CONTENT_POLICY, None),
    ("liangxin", "error", ErrorClass.GENERATION_FAILED, "501"),
    ("apimart", "error", ErrorClass.GENERATION_FAILED, "501"),
    ("apixo", "credits", ErrorClass.CREDITS, "INSUFFICIENT_CREDITS"),
]


@pytest.mark.parametrize(("mount", "kind", "error_class", "code"), FAILING)
def test_a_failure_rate_of_one_fails_every_task_with_its_class(mount, kind, error_class, code):
    with profiled(f"{mount}:speed=0.05,fail=1/{kind}") as sandbox:
        client = sandbox.client(mount)
        ids = [client.create(REQUEST).task_id for _ in range(4)]
        ends = [follow(client, task_id)[0] for task_id in ids]

    assert {s.state for s in ends} == {TaskState.FAILED}
    assert {s.error_class for s in ends} == {error_class}
    if code:
        assert {str(s.code) for s in ends} == {code}


@pytest.mark.parametrize("mount", ["kie", "apixo", "liangxin", "apimart"])
def test_a_failure_rate_of_one_for_429_refuses_every_create(mount):
    with profiled(f"{mount}:fail=100%/429") as sandbox:
        client = sandbox.client(mount)
        for _ in range(3):
            with pytest.raises(ProviderError) as refused:
                client.create(REQUEST)
            assert refused.value.error_class is ErrorClass.RATE_LIMITED
        assert sandbox.snapshot().get(f"tasks_created:{mount}", 0) == 0


def test_a_timeout_failure_never_finishes():
    with profiled("apimart:speed=0.05,fail=1/timeout") as sandbox:
        client = sandbox.client("apimart")
        task_id = client.create(REQUEST).task_id
        time.sleep(0.3)  # six times its time
        status = client.status(task_id)

    assert status.state is TaskState.RUNNING


def test_a_failure_rate_of_zero_never_fails_and_a_half_fails_some_repeatably():
    def outcomes(text):
        with profiled(text, seed=3, duration=0.01) as sandbox:
            client = sandbox.client("liangxin")
            ids = [client.create(REQUEST).task_id for _ in range(16)]
            return [follow(client, task_id)[0].state for task_id in ids]

    never = outcomes("liangxin:fail=0/content")
    half, again = outcomes("liangxin:fail=0.5"), outcomes("liangxin:fail=0.5")

    assert set(never) == {TaskState.SUCCEEDED}
    assert half == again
    assert set(half) == {TaskState.SUCCEEDED, TaskState.FAILED}


def test_the_price_shows_in_the_credits_kie_reports():
    with profiled("kie:speed=0.05,price=12.5; apikley:price=3") as sandbox:
        kie, apikley = sandbox.client("kie"), sandbox.client("apikley")
        priced = follow(kie, kie.create(REQUEST).task_id)[0]
        other = follow(apikley, apikley.create(REQUEST).task_id)[0]
    with profiled("liangxin:speed=0.05") as sandbox:
        kie = sandbox.client("kie")
        default = follow(kie, kie.create(REQUEST).task_id)[0]

    assert priced.raw["data"]["creditsConsumed"] == 12.5
    assert other.raw["data"]["creditsConsumed"] == 3
    assert default.raw["data"]["creditsConsumed"] == 8  # KIE's, as before


def test_the_profile_changes_while_running_through_the_control_address():
    with profiled("none", duration=0.05) as sandbox:
        client = sandbox.client("apimart")
        config = f"{sandbox.url}/_sandbox/config"
        assert httpx.post(config, json={"profile": "apimart:fail=1"}).status_code == 200
        failed = follow(client, client.create(REQUEST).task_id)[0]
        assert httpx.post(config, json={"profile": None}).status_code == 200
        recovered = follow(client, client.create(REQUEST).task_id)[0]
        bad = httpx.post(config, json={"profile": "apimart:fail=2"})

    assert failed.state is TaskState.FAILED
    assert recovered.state is TaskState.SUCCEEDED
    assert bad.status_code == 400
    assert "fail=2" in bad.json()["error"]


def test_a_good_profile_reads_as_written():
    profile = parse_profile(
        " kie : speed=6±2 , fail=0.1/content , fail=2%/429 , price=10 ;"
        "apixo:speed=14+-4s,fail=0.02 ; *:speed=9"
    )

    kie, apixo, apimart = (profile.for_mount(m) for m in ("kie", "apixo", "apimart"))
    assert (kie.speed, kie.spread, kie.price) == (6, 2, 10)
    assert kie.fails == (("content_violation", 0.1), ("429", 0.02))
    assert (apixo.speed, apixo.spread, apixo.fails) == (14, 4, (("fail", 0.02),))
    assert apimart.speed == 9
    # The providers `up` registers may be named as it names them.
    named = parse_profile("Sandbox APIMart:speed=3; sandbox liangxin:fail=0.5")
    assert named.for_mount("apimart").speed == 3
    assert named.for_mount("liangxin").fails == (("fail", 0.5),)
    assert parse_profile("none") is None
    assert parse_profile("  ") is None


BAD = [
    ("kie:speed=fast", "speed=fast"),
    ("kie:speed=-1", "speed=-1"),
    ("kie:speed=6±9", "speed=6±9"),
    ("kie:speed=nan", "speed=nan"),
    ("kie:fail=1.5", "fail=1.5"),
    ("kie:fail=0.1/explode", "explode"),
    ("kie:fail=0.6,fail=0.6/content", "kie"),
    ("kie:fail=0.1,fail=0.2", "fail=0.2"),
    ("kie:price=-3", "price=-3"),
    ("apixo:price=0.03", "price=0.03"),
    ("openai:speed=3", "openai"),
    ("kie speed=3", "kie speed=3"),
    ("kie:colour=red", "colour=red"),
    ("kie:speed=3,speed=4", "speed=4"),
    ("kie:speed=3;kie:fail=0.1", "kie"),
    ("kie:", "kie:"),
]


@pytest.mark.parametrize(("text", "part"), BAD)
def test_a_bad_profile_is_refused_naming_the_bad_part(text, part):
    with pytest.raises(ProfileError) as refused:
        parse_profile(text)

    assert part in str(refused.value)


def test_a_price_is_refused_where_the_vendor_reports_no_cost():
    with pytest.raises(ProfileError) as refused:
        parse_profile("apimart:price=0.05")

    assert "reports no cost" in str(refused.value)


def test_up_gives_a_new_user_four_providers_that_differ_and_tests_none():
    built_in = parse_profile(BUILT_IN)
    registered = ("kie", "liangxin", "apixo", "apimart")
    speeds = {built_in.for_mount(m).speed for m in registered}
    rates = [sum(r for _, r in built_in.for_mount(m).fails) for m in registered]

    assert len(speeds) == 4
    assert all(0 < rate <= 0.1 for rate in rates)
    # `up` uses it unless told otherwise; the sandbox command alone, and the sandbox the
    # tests start, use none.
    assert resolve(None, {}, default=BUILT_IN) == (BUILT_IN, "the built-in profile")
    assert resolve(None, {ENV: "kie:speed=3"}, default=BUILT_IN)[0] == "kie:speed=3"
    assert resolve("none", {ENV: "kie:speed=3"}, default=BUILT_IN)[0] == "none"
    assert resolve(None, {}, default="none")[0] == "none"
    assert SandboxConfig().profile is None
    plan = Up().processes(
        host="127.0.0.1", port=1, web_workers=1, sandbox_port=2, sandbox_profile="kie:speed=3"
    )
    assert plan["sandbox"][-2:] == ["--profile", "kie:speed=3"]


def run(*args, **env):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (("sandbox", "--port", "0", "--profile", "kie:speed=fast"), {}, "--profile"),
        (("sandbox", "--port", "0"), {ENV: "kie:fail=2"}, ENV),
        (("up", "--port", "0", "--sandbox-profile", "apixo:price=1"), {}, "--sandbox-profile"),
        (("up", "--port", "0"), {ENV: "kie:speed=3;nope"}, ENV),
    ],
)
def test_a_bad_profile_stops_the_command_with_a_message_not_a_traceback(args, env, named):
    done = run(*args, **env)

    assert done.returncode != 0
    assert named in done.stderr
    assert "Traceback" not in done.stderr
    assert "profile" in done.stderr.lower()
