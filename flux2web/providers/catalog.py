"""What each dialect and model can do: the one source of truth for the form, CLI and validation.

The registry of dialects (`DIALECTS`, filled by flux2web/providers/dialects/) and the shapes
each dialect's folder fills in: its capabilities per model, prices and poll schedule. Facts
come from ../shared/providers.md and the vendors' pages; where a vendor is silent the
choice is marked as ours.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flux2web.providers.types import SEED_MAX, GenerationRequest, Model

if TYPE_CHECKING:
    from flux2web.providers.base import DialectClient
    from flux2web.providers.sandbox.dialect import SandboxDialect

SEVEN_RATIOS = ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3")

# Output sizes by ratio and resolution, as APIMart documents them; the other dialects do not
# say, and the sandbox renders these.
OUTPUT_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("1:1", "1K"): (1440, 1440),
    ("1:1", "2K"): (1536, 1536),
    ("4:3", "1K"): (1664, 1248),
    ("4:3", "2K"): (1824, 1368),
    ("3:4", "1K"): (1248, 1664),
    ("3:4", "2K"): (1368, 1824),
    ("16:9", "1K"): (1920, 1080),
    ("16:9", "2K"): (2048, 1152),
    ("9:16", "1K"): (1080, 1920),
    ("9:16", "2K"): (1152, 2048),
    ("3:2", "1K"): (1728, 1152),
    ("3:2", "2K"): (1872, 1248),
    ("2:3", "1K"): (1152, 1728),
    ("2:3", "2K"): (1248, 1872),
}


@dataclass(frozen=True)
class PollSchedule:
    """When to ask about a task: `steps` are (until this many seconds elapsed, every N s)."""

    first_after: float
    steps: tuple[tuple[float, float], ...]
    give_up_after: float

    def interval_at(self, elapsed: float) -> float:
        for until, every in self.steps:
            if elapsed < until:
                return every
        return self.steps[-1][1]

    def next_poll_in(self, elapsed: float) -> float:
        """Seconds from now until the next status read, `elapsed` seconds after creation."""
        if elapsed < self.first_after:
            return self.first_after - elapsed
        return self.interval_at(elapsed)


@dataclass(frozen=True)
class Problem:
    """One reason a request cannot be sent, tied to the form field it is about."""

    field: str
    message: str

    def __str__(self):
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Option:
    """An optional parameter of a request that only some dialects take, written once: in
    the capabilities of the dialects that send it. The studio's form and its notices, the
    `generate` command's flags, the job's stored request (`Job.options`), remix, retry and
    rerun, and the job page all read it from here; the dialect's client sends it."""

    name: str
    label: str
    # Beside the field; {provider} is the provider's name.
    help: str
    # Said when it is asked of a provider that does not take it: refused (`refused`), or
    # dropped from a form still showing the last provider's options (`dropped`).
    refused: str
    dropped: str
    # Empty: an on/off switch, off by default. Otherwise one of these, or "" for the
    # vendor's own default, offered as `default_label`.
    choices: tuple[str, ...] = ()
    default_label: str = "Auto"

    @property
    def is_switch(self) -> bool:
        return not self.choices

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, value) -> bool | str:
        """A value as typed or ticked, as the request carries it: False or "" is the default."""
        if self.is_switch:
            return value is True or str(value or "").lower() in ("on", "true", "1")
        value = str(value or "").strip().lower()
        return "" if value == self.default_label.lower() else value

    def form_value(self, value) -> str:
        """A stored value as the form starts from it (remix)."""
        return ("on" if value else "") if self.is_switch else str(value or "")

    def shown(self, value) -> str:
        """A stored value as the job page says it."""
        return "on" if value is True else str(value)


@dataclass(frozen=True)
class Capabilities:
    dialect: str
    provider_label: str
    model: Model
    text_model: str
    image_model: str
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    ref_max: int
    prompt_min: int
    prompt_max: int
    schedule: PollSchedule
    prices: dict[str, Decimal]
    typical_seconds: int = 30
    size_range: tuple[int, int] | None = None
    seed: bool = False
    upsampling: bool = False
    # What only some vendors take (KIE's NSFW checker, Apixo's routing): see Option.
    options: tuple[Option, ...] = ()
    callbacks: bool = False
    # The vendor documents its callback address as "a public HTTPS URL".
    https_callbacks: bool = False
    signed_callbacks: bool = False
    default_ratio: str | None = "1:1"
    # What the vendor fetches as a reference image: these types only (empty: any image we
    # can read ourselves), up to this size each (None: our own download limit).
    ref_formats: tuple[str, ...] = ()
    ref_max_bytes: int | None = None

    def callback_for(self, url: str | None) -> str | None:
        """The callback address to send, or None to follow the task by polling alone. A
        vendor that takes only a public HTTPS address never gets a public plain-http one;
        an address on this machine or network is only reachable by a stand-in that lives
        there (the sandbox), which takes it."""
        if not url or not self.callbacks:
            return None
        parts = urlsplit(url)
        if not self.https_callbacks or parts.scheme == "https" or _local(parts.hostname):
            return url
        return None

    def wire_model(self, request: GenerationRequest) -> str:
        return self.image_model if request.is_image_to_image else self.text_model

    def price_for(self, resolution: str | None) -> Decimal:
        key = (resolution or "").upper()
        return self.prices.get(key) or self.prices[next(iter(self.prices))]

    def validate(self, request: GenerationRequest, *, provider: str = "") -> list[Problem]:
        """Every reason this request cannot go to this provider; empty when it can.

        `provider` is the name the person knows (an Apikley key speaks KIE's dialect).
        """
        who = provider or self.provider_label
        problems: list[Problem] = []

        prompt = request.prompt.strip()
        if len(prompt) < self.prompt_min:
            problems.append(
                Problem(
                    "prompt",
                    "Write a prompt."
                    if not prompt
                    else f"The prompt needs at least {self.prompt_min} characters for {who} "
                    f"(it has {len(prompt)}).",
                )
            )
        elif len(prompt) > self.prompt_max:
            problems.append(
                Problem(
                    "prompt",
                    f"The prompt may have at most {self.prompt_max} characters for {who} "
                    f"(it has {len(prompt)}).",
                )
            )

        problems += self._size_problems(request, who)

        if request.resolution is not None:
            if not self.resolutions:
                problems.append(
                    Problem(
                        "resolution",
                        f"{who} takes no resolution; set a width and height or a ratio instead.",
                    )
                )
            elif request.resolution.upper() not in self.resolutions:
                problems.append(
                    Problem(
                        "resolution",
                        f"Resolution {request.resolution!r} is not offered by {who}; "
                        f"choose {' or '.join(self.resolutions)}.",
                    )
                )

        if request.seed is not None:
            if not self.seed:
                problems.append(Problem("seed", f"{who} takes no seed; leave it empty."))
            elif not 0 <= request.seed <= SEED_MAX:
                problems.append(
                    Problem("seed", f"The seed must be a whole number from 0 to {SEED_MAX}.")
                )

        if request.prompt_upsampling and not self.upsampling:
            problems.append(
                Problem("prompt_upsampling", f"{who} does not offer prompt upsampling.")
            )

        problems += self._option_problems(request, who)
        problems += self._reference_problems(request, who)
        return problems

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def _option_problems(self, request: GenerationRequest, who: str) -> list[Problem]:
        problems = []
        for name, value in request.options.items():
            option = self.option(name)
            if option is None:
                known = every_option().get(name)
                said = known.refused if known else "{who} takes no " + name + "."
                problems.append(Problem(name, said.format(who=who, value=value)))
            elif not option.is_switch and value and value not in option.choices:
                problems.append(
                    Problem(
                        name,
                        f"{option.label} {value!r} is not offered by {who}; choose "
                        f"{' or '.join(option.choices)}.",
                    )
                )
        return problems

    def _size_problems(self, request: GenerationRequest, who: str) -> list[Problem]:
        problems = []
        has_width, has_height = request.width is not None, request.height is not None
        if has_width or has_height:
            if self.size_range is None:
                field_name = "width" if has_width else "height"
                return [
                    Problem(field_name, f"{who} takes no width and height; choose an aspect ratio.")
                ]
            if has_width != has_height:
                missing = "height" if has_width else "width"
                problems.append(
                    Problem(missing, "Width and height go together: give both, or neither.")
                )
            low, high = self.size_range
            for name, value in (("width", request.width), ("height", request.height)):
                if value is not None and not low <= value <= high:
                    problems.append(
                        Problem(
                            name,
                            f"The {name} must be from {low} to {high} pixels for {who} "
                            f"(it is {value}).",
                        )
                    )
            if request.aspect_ratio:
                problems.append(
                    Problem(
                        "aspect_ratio",
                        "Choose an aspect ratio or a width and height, not both.",
                    )
                )
            return problems
        ratio = request.aspect_ratio
        if ratio is None:
            return problems
        if ratio not in self.aspect_ratios:
            problems.append(
                Problem(
                    "aspect_ratio",
                    f"Aspect ratio {ratio!r} is not offered by {who}; choose one of "
                    f"{', '.join(self.aspect_ratios)}.",
                )
            )
        elif ratio == "auto" and not request.reference_urls:
            problems.append(
                Problem(
                    "aspect_ratio",
                    "Aspect ratio 'auto' follows the first reference image: add one, "
                    "or choose a ratio.",
                )
            )
        return problems

    def _reference_problems(self, request: GenerationRequest, who: str) -> list[Problem]:
        refs = request.reference_urls
        problems = []
        if len(refs) > self.ref_max:
            problems.append(
                Problem(
                    "reference_urls",
                    f"{who} takes at most {self.ref_max} reference images (there are {len(refs)}).",
                )
            )
        for number, url in enumerate(refs, start=1):
            parts = urlsplit(url)
            if parts.scheme == "data":
                problems.append(
                    Problem(
                        "reference_urls",
                        f"Reference image {number} is inline data; providers need a public URL.",
                    )
                )
            elif parts.scheme not in ("http", "https") or not parts.hostname:
                problems.append(
                    Problem(
                        "reference_urls",
                        f"Reference image {number} is not a public http(s) URL.",
                    )
                )
        return problems


@dataclass(frozen=True)
class Dialect:
    """Everything about one dialect, as its folder in flux2web/providers/dialects/ says."""

    name: str
    label: str
    models: dict[Model, Capabilities]
    # Speaks its wire format on the shared transport.
    client: type[DialectClient]
    # The vendor's documented limit on new tasks: (at most this many, per this many
    # seconds, per account), or None where none is documented. A credential may set its
    # own (a clone, a paid tier).
    create_limit: tuple[int, int] | None = None
    # How the sandbox stands in for its vendors, one per mount (the path it is served at).
    sandbox: tuple[SandboxDialect, ...] = ()
    # The provider a fresh install gets for it, on the sandbox's first mount.
    sandbox_name: str = ""

    @property
    def create_limit_words(self) -> str:
        return limit_words(self.create_limit)

    def capabilities(self, model: Model | str) -> Capabilities | None:
        return self.models.get(Model(model))

    def offers(self, model: Model | str) -> bool:
        return Model(model) in self.models


# KIE's and Apixo's reference images: JPEG, PNG or WEBP, at most 10 MB each.
WEB_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
REF_MAX_BYTES = 10 * 1024 * 1024
TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF"}
# The file extension we store each image type under.
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def _local(host: str | None) -> bool:
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:  # a name: taken as public
        return False


# Default prices per image in USD; an admin overrides them per credential. Apixo's page
# says $0.05-0.13 per image; within that band pro costs less than flex, 2K more than 1K.
PRO_PRICES = {"1K": Decimal("0.05"), "2K": Decimal("0.08")}
FLEX_PRICES = {"1K": Decimal("0.09"), "2K": Decimal("0.13")}


DIALECTS: dict[str, Dialect] = {}


def register(dialect: Dialect) -> Dialect:
    """Make a dialect known to the catalog, the clients and the sandbox. The built-in ones
    are registered by flux2web/providers/dialects/; a test may add its own."""
    if dialect.name in DIALECTS:
        raise ValueError(f"A dialect named {dialect.name!r} is registered already.")
    DIALECTS[dialect.name] = dialect
    return dialect


def unregister(name: str) -> None:
    DIALECTS.pop(name, None)


def every_option() -> dict[str, Option]:
    """Every optional parameter some registered dialect takes, by name."""
    return {
        o.name: o for d in DIALECTS.values() for caps in d.models.values() for o in caps.options
    }


def known_choices(name: str) -> list[str]:
    """Every value of an option some registered dialect offers, in the order offered."""
    found = {
        c: None
        for d in DIALECTS.values()
        for caps in d.models.values()
        if (option := caps.option(name))
        for c in option.choices
    }
    return list(found)


# The five resellers the product was built against, as (name, dialect, public base URL).
# LiangXin's pages give only paths, so its base URL is left to whoever adds the key.
SEEDED_PROVIDERS = (
    ("LiangXin", "liangxin", ""),
    ("KIE.ai", "kie", "https://api.kie.ai"),
    ("Apikley", "kie", "https://api.apikley.ru"),
    ("Apixo", "apixo", "https://api.apixo.ai"),
    ("APIMart", "apimart", "https://api.apimart.ai"),
)


def limit_words(limit: tuple[int, int] | None) -> str:
    if not limit:
        return "no limit"
    count, seconds = limit
    return f"{count} new task{'s' if count != 1 else ''} per {seconds} s"


def capabilities(dialect: str, model: Model | str) -> Capabilities | None:
    found = DIALECTS.get(dialect)
    return found.capabilities(model) if found else None


def validate(dialect: str, request: GenerationRequest, *, provider: str = "") -> list[Problem]:
    """Every problem with sending `request` to a provider of `dialect`, each naming its field."""
    found = DIALECTS.get(dialect)
    if found is None:
        return [Problem("provider", f"Unknown provider dialect {dialect!r}.")]
    caps = found.capabilities(request.model)
    if caps is None:
        offered = " and ".join(f"FLUX.2 {m.value}" for m in found.models)
        return [Problem("model", f"{provider or found.label} offers only {offered}.")]
    return caps.validate(request, provider=provider)
