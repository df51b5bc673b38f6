"""Finished jobs with an image, counting the gallery's tiles, and the studio form's data for
a comparison."""

from decimal import Decimal

from tests.jobs.factories import finish, make_jobs

FOUR = ("LiangXin", "KIE.ai", "Apixo", "APIMart")


def compare_data(providers, names=FOUR, **overrides):
    data = {
        "prompt": "a red fox asleep in fresh snow",
        "model": "pro",
        "provider": "",
        "count": "1",
        "aspect_ratio": "1:1",
        "idempotency_key": "compare-1",
        "action": "compare",
        "compare": [str(providers[name].pk) for name in names],
    }
    # The plan the page showed (its providers and total): a press sends only what was seen.
    prices = [providers[n].price_for("pro", overrides.get("resolution")) for n in names]
    pks = sorted(str(providers[n].pk) for n in names)
    data["compare_seen"] = f"{','.join(pks)}={sum(prices, Decimal(0))}"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def made(owner, prompt, **fields):
    return finish(make_jobs(owner, prompt=prompt, **fields)[0])


def tiles(html):
    return html.count('data-image-id="')
