"""Each dialect's create body, exactly as its vendor documents it."""

from flux2web.providers import CLIENTS, catalog
from flux2web.providers.types import GenerationRequest, Model

CALLBACK = "https://flux.example.com/callbacks/1/s3cret/"
REFS = ("https://img.example/a.png", "https://img.example/b.png")


def payload(dialect, **fields):
    request = GenerationRequest(**{"model": Model.PRO, "prompt": " a red shoe ", **fields})
    caps = catalog.capabilities(dialect, request.model)
    return CLIENTS[dialect](transport=None).build_payload(request, caps)


def test_kie_always_sends_prompt_ratio_and_resolution():
    assert payload("kie") == {
        "model": "flux-2/pro-text-to-image",
        "input": {"prompt": "a red shoe", "aspect_ratio": "1:1", "resolution": "1K"},
    }


def test_kie_image_to_image_uses_the_image_model_input_urls_and_callback():
    body = payload(
        "kie", model=Model.FLEX, aspect_ratio="auto", resolution="2k", reference_urls=REFS,
        callback_url=CALLBACK,
    )  # fmt: skip
    assert body == {
        "model": "flux-2/flex-image-to-image",
        "callBackUrl": CALLBACK,
        "input": {
            "prompt": "a red shoe",
            "aspect_ratio": "auto",
            "resolution": "2K",
            "input_urls": list(REFS),
        },
    }


def test_liangxin_sends_size_references_seed_and_upsampling():
    body = payload(
        "liangxin", width=1200, height=800, seed=42, prompt_upsampling=True,
        reference_urls=(*REFS, "https://img.example/c.png"), callback_url=CALLBACK,
    )  # fmt: skip
    assert body == {
        "model": "flux-2-pro",
        "callBackUrl": CALLBACK,
        "input": {
            "prompt": "a red shoe",
            "width": 1200,
            "height": 800,
            "input_image": REFS[0],
            "input_image_2": REFS[1],
            "input_image_3": "https://img.example/c.png",
            "seed": 42,
            "prompt_upsampling": True,
        },
    }


def test_liangxin_sends_a_ratio_alias_and_leaves_out_what_was_not_asked():
    assert payload("liangxin", aspect_ratio="21:9") == {
        "model": "flux-2-pro",
        "input": {"prompt": "a red shoe", "aspect_ratio": "21:9"},
    }


def test_apixo_polls_in_async_mode_and_asks_for_a_callback_when_it_can():
    assert payload("apixo", model=Model.FLEX, aspect_ratio="3:2", resolution="2K") == {
        "request_type": "async",
        "input": {
            "mode": "flex-text-to-image",
            "prompt": "a red shoe",
            "aspect_ratio": "3:2",
            "resolution": "2K",
        },
    }
    body = payload("apixo", reference_urls=REFS, callback_url=CALLBACK)
    assert body["request_type"] == "callback"
    assert body["callback_url"] == CALLBACK
    assert body["input"]["mode"] == "pro-image-to-image"
    assert body["input"]["image_urls"] == list(REFS)


def test_apimart_sends_size_as_the_ratio_and_never_a_callback():
    body = payload("apimart", aspect_ratio="9:16", resolution="2k", reference_urls=REFS,
                   callback_url=CALLBACK)  # fmt: skip
    assert body == {
        "model": "flux-2-pro",
        "prompt": "a red shoe",
        "resolution": "2K",
        "size": "9:16",
        "image_urls": list(REFS),
    }
