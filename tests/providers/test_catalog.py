"""The capability catalog refuses what a provider cannot do, naming the field, before sending."""

from decimal import Decimal

import pytest

from flux2web.providers import catalog
from flux2web.providers.types import GenerationRequest, Model

PROMPT = "a lighthouse at dusk"


def problems(dialect, **fields):
    request = GenerationRequest(**{"model": Model.PRO, "prompt": PROMPT, **fields})
    return [(p.field, p.message) for p in catalog.validate(dialect, request)]


def fields_of(found):
    return [f for f, _ in found]


@pytest.mark.parametrize("dialect", ["kie", "liangxin", "apixo", "apimart"])
def test_a_plain_text_to_image_request_is_fine_everywhere(dialect):
    assert problems(dialect) == []


class TestPrompt:
    @pytest.mark.parametrize("dialect", ["kie", "apixo"])
    def test_it_needs_three_characters_on_kie_and_apixo(self, dialect):
        found = problems(dialect, prompt="ab")
        assert fields_of(found) == ["prompt"]
        assert "at least 3 characters" in found[0][1]
        assert "(it has 2)" in found[0][1]

    @pytest.mark.parametrize("dialect", ["liangxin", "apimart"])
    def test_one_character_is_enough_where_no_minimum_is_documented(self, dialect):
        assert problems(dialect, prompt="x") == []

    @pytest.mark.parametrize("dialect", ["kie", "liangxin", "apixo", "apimart"])
    def test_it_may_not_exceed_5000_characters(self, dialect):
        assert problems(dialect, prompt="x" * 5000) == []
        found = problems(dialect, prompt="x" * 5001)
        assert found == [("prompt", found[0][1])]
        assert "at most 5000 characters" in found[0][1]

    def test_an_empty_prompt_asks_for_one(self):
        assert problems("liangxin", prompt="   ") == [("prompt", "Write a prompt.")]


class TestAspectRatio:
    def test_21_9_is_only_on_liangxin(self):
        assert problems("liangxin", aspect_ratio="21:9") == []
        for dialect in ("kie", "apixo", "apimart"):
            found = problems(dialect, aspect_ratio="21:9")
            assert fields_of(found) == ["aspect_ratio"]
            assert "'21:9' is not offered" in found[0][1]

    @pytest.mark.parametrize("dialect", ["kie", "apixo"])
    def test_auto_needs_a_reference_image(self, dialect):
        found = problems(dialect, aspect_ratio="auto")
        assert found == [
            ("aspect_ratio", "Aspect ratio 'auto' follows the first reference image: add one, "
             "or choose a ratio.")
        ]  # fmt: skip
        assert (
            problems(dialect, aspect_ratio="auto", reference_urls=("https://x.test/a.png",)) == []
        )

    @pytest.mark.parametrize("dialect", ["liangxin", "apimart"])
    def test_auto_is_not_offered_by_liangxin_or_apimart(self, dialect):
        found = problems(dialect, aspect_ratio="auto", reference_urls=("https://x.test/a.png",))
        assert fields_of(found) == ["aspect_ratio"]

    def test_apimart_offers_exactly_seven_ratios(self):
        ratios = catalog.capabilities("apimart", "pro").aspect_ratios
        assert ratios == ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3")


class TestWidthAndHeight:
    def test_liangxin_takes_both_within_256_to_1440(self):
        assert problems("liangxin", width=256, height=1440) == []

    def test_one_without_the_other_is_refused(self):
        assert problems("liangxin", width=800) == [
            ("height", "Width and height go together: give both, or neither.")
        ]
        assert fields_of(problems("liangxin", height=800)) == ["width"]

    def test_out_of_range_sides_are_each_refused(self):
        found = problems("liangxin", width=255, height=1441)
        assert fields_of(found) == ["width", "height"]
        assert "from 256 to 1440 pixels" in found[0][1]
        assert "(it is 1441)" in found[1][1]

    def test_a_ratio_and_a_size_together_is_refused(self):
        found = problems("liangxin", width=800, height=600, aspect_ratio="1:1")
        assert found == [
            ("aspect_ratio", "Choose an aspect ratio or a width and height, not both.")
        ]

    @pytest.mark.parametrize("dialect", ["kie", "apixo", "apimart"])
    def test_only_liangxin_takes_a_size(self, dialect):
        found = problems(dialect, width=800, height=600)
        assert fields_of(found) == ["width"]
        assert "takes no width and height" in found[0][1]


class TestOtherParameters:
    def test_liangxin_takes_no_resolution(self):
        found = problems("liangxin", resolution="2K")
        assert fields_of(found) == ["resolution"]

    @pytest.mark.parametrize("dialect", ["kie", "apixo", "apimart"])
    def test_resolution_is_1k_or_2k_in_any_case(self, dialect):
        assert problems(dialect, resolution="2k") == []
        found = problems(dialect, resolution="4K")
        assert found == [("resolution", found[0][1])]
        assert "choose 1K or 2K" in found[0][1]

    @pytest.mark.parametrize("dialect", ["kie", "apixo", "apimart"])
    def test_only_liangxin_takes_a_seed_and_upsampling(self, dialect):
        found = problems(dialect, seed=7, prompt_upsampling=True)
        assert fields_of(found) == ["seed", "prompt_upsampling"]
        assert problems("liangxin", seed=7, prompt_upsampling=True) == []

    def test_a_seed_must_fit_32_bits(self):
        assert fields_of(problems("liangxin", seed=-1)) == ["seed"]
        assert fields_of(problems("liangxin", seed=2**32)) == ["seed"]
        assert problems("liangxin", seed=2**32 - 1) == []

    def test_liangxin_offers_only_pro(self):
        request = GenerationRequest(model=Model.FLEX, prompt=PROMPT)
        found = catalog.validate("liangxin", request, provider="LiangXin")
        assert [(p.field, p.message) for p in found] == [
            ("model", "LiangXin offers only FLUX.2 pro.")
        ]

    def test_messages_name_the_provider_the_person_chose(self):
        request = GenerationRequest(model=Model.PRO, prompt="ab")
        (problem,) = catalog.validate("kie", request, provider="Apikley")
        assert "for Apikley" in problem.message


class TestReferenceImages:
    def urls(self, n):
        return tuple(f"https://images.example/{i}.png" for i in range(n))

    def test_liangxin_takes_four(self):
        assert problems("liangxin", reference_urls=self.urls(4)) == []
        found = problems("liangxin", reference_urls=self.urls(5))
        assert found == [
            ("reference_urls", "LiangXin takes at most 4 reference images (there are 5).")
        ]

    @pytest.mark.parametrize("dialect", ["kie", "apixo", "apimart"])
    def test_the_others_take_eight(self, dialect):
        assert problems(dialect, reference_urls=self.urls(8)) == []
        assert fields_of(problems(dialect, reference_urls=self.urls(9))) == ["reference_urls"]

    def test_inline_data_and_non_http_urls_are_refused(self):
        found = problems(
            "apimart", reference_urls=("data:image/png;base64,AAAA", "ftp://x.test/a.png")
        )
        assert found == [
            ("reference_urls", "Reference image 1 is inline data; providers need a public URL."),
            ("reference_urls", "Reference image 2 is not a public http(s) URL."),
        ]


def test_every_problem_is_reported_at_once():
    found = problems("kie", prompt="ab", aspect_ratio="21:9", resolution="8K", seed=1)
    assert fields_of(found) == ["prompt", "aspect_ratio", "resolution", "seed"]


class TestScheduleAndPrices:
    def test_kie_polls_fast_then_slower_as_the_vendor_advises(self):
        schedule = catalog.capabilities("kie", "pro").schedule
        assert schedule.next_poll_in(0) == 2.5
        assert schedule.next_poll_in(10) == 2.5
        assert schedule.next_poll_in(60) == 7.5
        assert schedule.next_poll_in(300) == 20
        assert schedule.give_up_after == 15 * 60

    def test_apixo_waits_15_seconds_then_every_5_and_gives_up_at_3_minutes(self):
        schedule = catalog.capabilities("apixo", "flex").schedule
        assert schedule.next_poll_in(0) == 15
        assert schedule.next_poll_in(12) == 3
        assert schedule.next_poll_in(20) == 5
        assert schedule.give_up_after == 180

    def test_prices_depend_on_model_and_resolution(self):
        pro = catalog.capabilities("kie", "pro")
        flex = catalog.capabilities("kie", "flex")
        assert pro.price_for("1K") == Decimal("0.05")
        assert pro.price_for("2k") == Decimal("0.08")
        assert flex.price_for("2K") > pro.price_for("2K")
        assert catalog.capabilities("liangxin", "pro").price_for(None) == Decimal("0.05")

    def test_callback_support_follows_the_vendors(self):
        assert catalog.capabilities("kie", "pro").signed_callbacks
        assert catalog.capabilities("liangxin", "pro").callbacks
        assert catalog.capabilities("apixo", "pro").callbacks
        assert not catalog.capabilities("apimart", "pro").callbacks

    def test_the_five_seeded_providers_are_known(self):
        names = [(name, dialect) for name, dialect, _ in catalog.SEEDED_PROVIDERS]
        assert names == [
            ("LiangXin", "liangxin"), ("KIE.ai", "kie"), ("Apikley", "kie"),
            ("Apixo", "apixo"), ("APIMart", "apimart"),
        ]  # fmt: skip
