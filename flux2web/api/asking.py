"""What a client asks of /v1/images/generations and /v1/images/edits, read and checked: OpenAI's
fields (`model`, `prompt`, `n`, `size`, `response_format`, `user`), ours beside them
(`aspect_ratio`, `resolution`, `seed`, `provider`, `image_urls`, and every other field of a
request, each under the name the catalog gives it), and the fields of OpenAI's that FLUX.2
cannot honour, accepted and ignored. Anything else is a 400 naming it.

A JSON body carries typed values; a multipart one (edits) carries text, read as the field's
type. Nothing is written here: `Asked.spec` is the request as job_requests takes it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass

from flux2web.api import catalog
from flux2web.api.errors import ApiError
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import services
from flux2web.lib.addresses import url_syntax_problem
from flux2web.providers import catalog as provider_catalog
from flux2web.providers.types import SHARED_FIELDS, GenerationRequest
from flux2web.studio.forms import MAX_COUNT, UPLOAD_PLACEHOLDER

# OpenAI's own fields that FLUX.2 cannot honour: taken and left unused, so that tools which
# always send them work (README, "The API").
IGNORED = ("quality", "style", "background", "moderation", "output_format",
           "output_compression", "user")  # fmt: skip
FORMATS = ("url", "b64_json")
SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")
SIZE_EXAMPLE = 'Give it as "WIDTHxHEIGHT", e.g. "1536x1024", or "auto".'
# How far a size may stand from the nearest ratio a provider makes (a factor on the ratio):
# 1792x1024 (1.75) is 16:9 (1.78); 4096x1024 is no shape a provider makes.
RATIO_SLACK = 1.25
# The pixels of each resolution's square, to find the one nearest a size.
SIDES = {"0.5K": 512, "1K": 1024, "2K": 2048, "4K": 4096}
# What a field's value must be in JSON, by its kind (providers.types.Shared.kind).
KINDS = {"choice": (str,), "number": (int,), "switch": (bool,)}
KIND_WORDS = {str: "a string", int: "an integer", bool: "a boolean", list: "an array"}


def _fields() -> dict[str, type]:
    """Every field a request may carry, and its JSON type."""
    fields = {"model": str, "prompt": str, "n": int, "size": str, "response_format": str,
              "provider": str, "image_urls": list}  # fmt: skip
    for spec in SHARED_FIELDS:
        fields[spec.name] = KINDS[spec.kind][0]
    for name, option in provider_catalog.every_option().items():
        fields[name] = bool if option.is_switch else str
    return fields


def is_field(name: str) -> bool:
    """Whether a request may carry `name` (taken, or accepted and ignored)."""
    return name in _fields() or name in IGNORED


@dataclass(frozen=True)
class Asked:
    spec: services.JobSpec
    response_format: str
    # The SHA-256 of what was asked, uploads included: an Idempotency-Key's retry must match.
    digest: str
    # Where a refusal's problem points, by the request's field: "reference_urls" is
    # `image_urls` here and `image` for an edit's files; a size the client gave is `size`.
    params: dict[str, str]

    def param(self, field: str) -> str | None:
        if field in self.params:
            return self.params[field]
        return field if field in _fields() else None


def read_json(request) -> dict:
    """The body as a JSON object, or a 400 saying what is wrong with it."""
    try:
        body = json.loads(request.body or b"")
        # Text Python can hold but no database can (a lone surrogate, "\ud800").
        json.dumps(body, ensure_ascii=False).encode()
    except (ValueError, UnicodeError, RecursionError):
        raise ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def read_form(request) -> dict:
    """A multipart body's text fields, as single values ("image_urls" may repeat)."""
    body = {}
    for name in request.POST:
        values = request.POST.getlist(name)
        key = name.removesuffix("[]")
        body[key] = values if key == "image_urls" else values[-1]
    return body


def ask(body: dict, *, owner, token, text: bool = False, uploads=()) -> Asked:
    """The request a body asks for, checked as the studio checks its form; `text`: every
    value arrived as text (multipart). Raises ApiError (400) naming the first bad field."""
    fields = _fields()
    for name in body:
        if name not in fields and name not in IGNORED:
            raise ApiError(400, f"Unrecognized request argument supplied: {name}", param=name)
    values = {name: _typed(name, body[name], fields[name], text) for name in fields if name in body}
    values = {name: value for name, value in values.items() if value is not None}
    prompt = values.get("prompt", "")
    if not prompt.strip():
        raise ApiError(400, "Missing required parameter: 'prompt'.", param="prompt")
    api_model = values.get("model", catalog.MODELS[0].id)
    model = catalog.model_for(api_model)
    if model is None:
        known = ", ".join(m.id for m in catalog.MODELS)
        raise ApiError(
            404,
            f"The model '{api_model}' does not exist; use one of {known} (GET /v1/models).",
            param="model",
            code="model_not_found",
        )
    count = values.get("n", 1)
    if not 1 <= count <= MAX_COUNT:
        raise ApiError(
            400,
            f"n must be from 1 to {MAX_COUNT} (it is {count}).",
            param="n",
            code="invalid_value",
        )
    response_format = values.get("response_format", "url")
    if response_format not in FORMATS:
        raise ApiError(
            400,
            f"response_format must be one of {', '.join(FORMATS)} (it is {response_format!r}).",
            param="response_format",
            code="invalid_value",
        )
    provider = _provider(values.get("provider"))
    urls = [str(u).strip() for u in values.get("image_urls", [])]
    for number, url in enumerate(urls, start=1):
        if problem := url_syntax_problem(url):
            raise ApiError(400, f"Image URL {number} {problem}.", param="image_urls")
    shared = {spec.name: _shared(spec, values.get(spec.name)) for spec in SHARED_FIELDS}
    params = {"reference_urls": "image" if uploads else "image_urls", "count": "n"}
    placeholders = [UPLOAD_PLACEHOLDER.format(n) for n in range(len(uploads))]
    _refs_within_limit(len(urls) + len(uploads), model=model, provider=provider, field=params)
    options = {
        name: value
        for name, option in provider_catalog.every_option().items()
        if (value := option.parse(values.get(name)))
    }

    def request_with(fields: dict) -> GenerationRequest:
        return GenerationRequest(
            model=model,
            prompt=prompt,
            **fields,
            options=options,
            reference_urls=(*urls, *placeholders),
        )

    if values.get("size") is not None:
        chosen = _sized(values["size"], shared, model=model, provider=provider, ask=request_with)
        shared |= {name: value for name, value in chosen.items() if shared.get(name) is None}
        params |= {name: "size" for name in chosen}
    request = request_with(shared)
    caps = provider and provider_catalog.capabilities(provider.dialect, model)
    spec = services.JobSpec(
        request=request,
        provider=provider,
        count=count,
        random_seed=bool(caps and caps.seed and request.seed is None),
        trusted_references=frozenset(placeholders),
        api_token_id=token.pk,
    )
    digest = hashlib.sha256(
        json.dumps([body, [hashlib.sha256(_read(u)).hexdigest() for u in uploads]],
                   sort_keys=True, default=str).encode()
    ).hexdigest()  # fmt: skip
    return Asked(spec=spec, response_format=response_format, digest=digest, params=params)


def _shared(spec, value):
    """A shared field's value as GenerationRequest keeps it (a switch is off when absent)."""
    if spec.kind == "switch":
        return bool(value)
    if spec.kind == "choice" and value is not None:
        return spec.tidy(value) or None
    return value


def _read(upload) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _typed(name: str, value, kind: type, text: bool):
    """The value as `kind`, or a 400 naming the field and what it must be."""
    if value is None:
        return None
    if text and kind is not str and isinstance(value, str):
        value = _from_text(name, value.strip(), kind)
    if kind is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiError(400, f"Invalid type for '{name}': expected an array of strings.",
                           param=name, code="invalid_type")  # fmt: skip
        return [_no_nul(name, v) for v in value]
    # JSON's true is a Python int as well: a number field must not take it.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        got = KIND_WORDS.get(type(value), type(value).__name__)
        raise ApiError(
            400,
            f"Invalid type for '{name}': expected {KIND_WORDS[kind]}, but got {got} instead.",
            param=name,
            code="invalid_type",
        )
    return _no_nul(name, value) if kind is str else value


def _no_nul(name: str, value: str) -> str:
    """Text no database takes whole: PostgreSQL refuses a NUL character in any text."""
    if "\x00" in value:
        raise ApiError(400, f"Invalid value for '{name}': it cannot hold a NUL character "
                       "(\\u0000).", param=name, code="invalid_value")  # fmt: skip
    return value


def _from_text(name: str, value: str, kind: type):
    if kind is int and re.fullmatch(r"-?\d{1,12}", value):
        return int(value)
    if kind is bool and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise ApiError(400, f"Invalid value for '{name}': expected {KIND_WORDS[kind]}.",
                   param=name, code="invalid_type")  # fmt: skip


def _provider(name: str | None) -> ProviderCredential | None:
    """The provider a request names, or None for Auto."""
    if name is None or name.strip().lower() in ("", "auto"):
        return None
    found = ProviderCredential.objects.enabled().filter(name__iexact=name.strip()).first()
    if found is None:
        names = ", ".join(c.name for c in ProviderCredential.objects.enabled().by_priority())
        raise ApiError(
            400,
            f"No enabled provider is called {name!r}; use one of {names or 'none'}, or Auto.",
            param="provider",
            code="invalid_value",
        )
    return found


def _refs_within_limit(count: int, *, model, provider, field: dict) -> None:
    """More references than any provider that may take the request takes is a 400 before
    a single address is looked up."""
    credentials = [provider] if provider else services.candidates(model, None)
    limits = [
        caps.ref_max
        for c in credentials
        if (caps := provider_catalog.capabilities(c.dialect, model)) is not None
    ]
    if limits and count > max(limits):
        raise ApiError(
            400,
            f"At most {max(limits)} reference images are taken (there are {count}).",
            param=field["reference_urls"],
            code="invalid_value",
        )


def _sized(size: str, shared: dict, *, model, provider, ask) -> dict:
    """What an OpenAI size becomes, the nearest a provider makes: an aspect ratio and
    resolution, or a width and height where the provider takes them; fields the client set
    itself stay as they are. Under Auto, the first provider in Auto's order that takes the
    request so sized decides (a seed leaves out those that take none); `ask(fields)` is
    the request with those fields."""
    if size.strip().lower() == "auto":
        return {}
    match = SIZE.match(size)
    if not match or not all(int(side) for side in match.groups()):
        raise ApiError(400, f"Invalid size {size!r}. {SIZE_EXAMPLE}", param="size",
                       code="invalid_size")  # fmt: skip
    width, height = (int(side) for side in match.groups())
    credentials = [provider] if provider else services.candidates(model, None)
    first = None
    for credential in credentials:
        caps = provider_catalog.capabilities(credential.dialect, model)
        if caps is None:
            continue
        chosen = _nearest(caps, width, height, shared)
        first = first or (credential, caps, chosen)
        if chosen is None:
            continue
        fields = shared | {k: v for k, v in chosen.items() if shared.get(k) is None}
        if not caps.validate(ask(fields), provider=credential.name):
            return chosen
    if first is None:
        return {}  # no provider makes the model: check_spec says so
    credential, caps, chosen = first
    if chosen is None:
        ratios = ", ".join(r for r in caps.aspect_ratios if ":" in r)
        raise ApiError(
            400,
            f"Size {size} is no shape {credential.name} makes: its aspect ratios are {ratios}. "
            "Send a size near one of them (e.g. 1536x1024 for 3:2, 1024x1024 for 1:1) or an "
            "aspect_ratio.",
            param="size",
            code="invalid_size",
        )
    return chosen  # no provider takes it: check_spec names why


def _nearest(caps, width: int, height: int, shared: dict) -> dict | None:
    """The ratio and resolution (or width and height) nearest a size that these
    capabilities offer; None when no ratio is near its shape."""
    chosen: dict = {}
    ratios = [r for r in caps.aspect_ratios if ":" in r]
    if caps.size_range and not ratios:
        return {"width": width, "height": height}
    if ratios and not (shared.get("width") or shared.get("aspect_ratio")):
        ratio = min(ratios, key=lambda r: abs(math.log(_ratio(r) * height / width)))
        if abs(math.log(_ratio(ratio) * height / width)) > math.log(RATIO_SLACK):
            return None
        chosen["aspect_ratio"] = ratio
    known = [r for r in caps.resolutions if r.upper() in SIDES]
    if known and not shared.get("resolution"):
        pixels = width * height
        chosen["resolution"] = min(
            known, key=lambda r: abs(math.log(SIDES[r.upper()] ** 2 / pixels))
        )
    return chosen


def _ratio(ratio: str) -> float:
    wide, _, high = ratio.partition(":")
    return float(wide) / float(high)
