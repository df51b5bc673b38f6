"""What a vendor reports of its own task, read from its answers over loopback: its time
(KIE's family's costTime in ms, APIMart's actual_time in seconds) and its credits (KIE's
creditsConsumed); a figure that is not one is left out, never a failed answer."""

from decimal import Decimal

import pytest

from flux2web.providers.base import reported
from flux2web.providers.types import GenerationRequest, Model, TaskState
from tests.providers.helpers import follow

REQUEST = GenerationRequest(model=Model.PRO, prompt="a lighthouse at dusk")


@pytest.mark.parametrize("mount", ["kie", "apikley", "liangxin", "apixo", "apimart"])
def test_a_finished_task_says_how_long_it_took(make_client, sandbox, mount):
    sandbox.set_profile(f"{mount}:speed=1.2")
    client = make_client(mount)
    done, _ = follow(client, client.create(REQUEST).task_id)
    assert done.state is TaskState.SUCCEEDED
    assert done.reported_seconds == pytest.approx(1.2, abs=0.5)


def test_kie_says_what_the_task_cost_in_its_credits(make_client, sandbox):
    sandbox.set_profile("kie:price=12")
    client = make_client("kie")
    done, _ = follow(client, client.create(REQUEST).task_id)
    assert done.reported_credits == Decimal(12)


def test_a_task_still_running_reports_nothing(make_client, sandbox):
    sandbox.set_profile("kie:speed=5")
    client = make_client("kie")
    running = client.status(client.create(REQUEST).task_id)
    assert not running.state.is_final
    assert (running.reported_seconds, running.reported_credits) == (None, None)


@pytest.mark.parametrize(
    ("value", "scale", "read"),
    [(14200, 1000, Decimal("14.2")), ("8", 1, Decimal(8)), (0.5, 1, Decimal("0.5")),
     (-3, 1, None), (True, 1, None), ("lots", 1, None), (1e300, 1, None), ("NaN", 1, None),
     ("Infinity", 1000, None), (None, 1, None), ([], 1, None)],
)  # fmt: skip
def test_only_a_plain_figure_is_read(value, scale, read):
    assert reported(value, scale=scale) == read
