"""How each of the sandbox's providers behaves: its speed, its price and how often it fails
(a profile), so that providers differ the way real ones do.

A profile is written as entries separated by `;`, each a mount (kie, apikley, liangxin,
apixo, apimart, or `*` for every one) followed by `:` and settings separated by `,`:

    kie:speed=8±2,fail=0.03/content,price=8; apixo:speed=14+-4,fail=2%/429

- `speed=S` or `speed=S±D` (`+-` works too): seconds from create to done, uniformly
  spread within D either side of S;
- `fail=R` or `fail=R/CLASS`, repeatable with different classes: the fraction R (0-1, or a
  percentage) of tasks that fail that way; CLASS is `error` (the default: the task fails),
  `content` (refused as unsafe), `timeout` (never finishes), `credits` (fails for
  credits) or any create refusal the prompt tags know (`429`, `500`, `455`, `402`, `433`,
  `drop`, `lost`, ...);
- `price=P`: what the vendor reports it charged per image, in its own unit (KIE's credits);
  only for dialects whose vendor reports a cost.

`none` (or nothing) is no profile: every provider takes the sandbox's duration and never
fails unless told to. A `*` entry's settings apply to each mount, its own entry's on top.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flux2web.providers.sandbox.faults import FAILING, TAGGED_BEFORE_CREATE

ENV = "FLUX2WEB_SANDBOX_PROFILE"
EVERY = "*"
# What `manage.py up` (so ./bin/run) starts the sandbox with, so that a new user's
# providers already differ: each its own speed, a few failures of a different kind. The
# sandbox command alone and the sandbox the tests start use none.
BUILT_IN = (
    "kie:speed=8±2,fail=0.03/content; liangxin:speed=5±1,fail=0.06/error; "
    "apixo:speed=14±4,fail=0.02/error; apimart:speed=10±3,fail=0.04/error,fail=0.02/429"
)
ALIASES = {
    "error": "fail",
    "content": "content_violation",
    "timeout": "never",
    "credits": "insufficient_credits",
}
# Every way a task may be made to fail: the aliases, the task failures and the create
# refusals ("slow" only delays, "401_echo" is about keys, not tasks).
CLASSES = {
    **ALIASES,
    **{name: name for name in sorted(FAILING | {"never"})},
    **{name: name for name in TAGGED_BEFORE_CREATE if name not in ("slow", "401_echo")},
    "lost": "lost",
}
FORMAT = "MOUNT:speed=S[±D],fail=R[/CLASS],price=P; MOUNT:... (or none)"
NUMBER = r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
SPEED = re.compile(rf"{NUMBER}s?(?:\s*(?:±|\+-|\+/-)\s*{NUMBER}s?)?")
RATE = re.compile(rf"{NUMBER}(%?)(?:\s*/\s*([A-Za-z0-9_]+))?")
MAX_SECONDS = 24 * 3600


class ProfileError(ValueError):
    """A profile that cannot be read: `part` is the piece that is wrong."""

    def __init__(self, part: str, why: str):
        super().__init__(f"{part!r}: {why}")
        self.part = part
        self.why = why


@dataclass(frozen=True)
class Behaviour:
    speed: float | None = None
    spread: float = 0.0
    # (fault, rate) in the order written; the rates add up to at most 1.
    fails: tuple[tuple[str, float], ...] = ()
    price: float | None = None

    def fault_for(self, roll: float) -> str | None:
        """The failure a task meets for a uniform roll in [0, 1), or None."""
        for fault, rate in self.fails:
            if roll < rate:
                return fault
            roll -= rate
        return None

    def duration_for(self, offset: float) -> float | None:
        """Seconds to done for a uniform offset in [-1, 1], or None (the sandbox's own)."""
        if self.speed is None:
            return None
        return max(0.0, self.speed + self.spread * offset)

    def describe(self) -> str:
        said = []
        if self.speed is not None:
            spread = f"±{_num(self.spread)}" if self.spread else ""
            said.append(f"{_num(self.speed)}{spread} s")
        named = {fault: name for name, fault in ALIASES.items()}
        said += [f"{_num(rate * 100)}% {named.get(f, f)}" for f, rate in self.fails]
        if self.price is not None:
            said.append(f"price {_num(self.price)}")
        return ", ".join(said) or "as the sandbox"


@dataclass(frozen=True)
class Profile:
    text: str
    entries: dict[str, Behaviour] = field(default_factory=dict)

    def for_mount(self, mount: str) -> Behaviour:
        every, own = self.entries.get(EVERY, Behaviour()), self.entries.get(mount, Behaviour())
        return Behaviour(
            speed=own.speed if own.speed is not None else every.speed,
            spread=own.spread if own.speed is not None else every.spread,
            fails=own.fails or every.fails,
            price=own.price if own.price is not None else every.price,
        )

    def describe(self) -> str:
        return "; ".join(f"{mount}: {b.describe()}" for mount, b in self.entries.items())


def resolve(option: str | None, environ: Mapping[str, str], *, default: str) -> tuple[str, str]:
    """(the profile's text, where it came from): the option, else the environment variable,
    else `default`."""
    if option is not None:
        return option, "option"
    if environ.get(ENV) is not None:
        return environ[ENV], ENV
    return default, "the built-in profile" if default == BUILT_IN else "default"


def load(
    option: str | None, environ: Mapping[str, str], *, default: str, option_name: str
) -> tuple[str, Profile | None]:
    """(text, profile) from the option, else the environment variable, else `default`; a
    bad one raises ValueError with a message naming where it came from and its bad part."""
    text, source = resolve(option, environ, default=default)
    try:
        return text, parse_profile(text)
    except ProfileError as exc:
        where = option_name if source == "option" else source
        raise ValueError(
            f"The sandbox profile in {where} is not valid at {exc}. Format: {FORMAT}."
        ) from None


def parse_profile(text: str | None) -> Profile | None:
    """The profile `text` describes (None for none); ProfileError names what is wrong."""
    if text is not None and not isinstance(text, str):
        raise ProfileError(repr(text), f"a profile is text: {FORMAT}")
    text = (text or "").strip()
    if not text or text.lower() == "none":
        return None
    served = _served()
    entries: dict[str, Behaviour] = {}
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        mount, colon, settings = (s.strip() for s in entry.partition(":"))
        if not colon:
            raise ProfileError(entry, f"each entry is MOUNT:SETTINGS, e.g. kie:speed=6 ({FORMAT})")
        mount = _named().get(mount.lower(), mount.lower())
        if mount != EVERY and mount not in served:
            raise ProfileError(mount, f"no such mount; one of {', '.join([*served, EVERY])}")
        if mount in entries:
            raise ProfileError(mount, "is given twice; put all its settings in one entry")
        if not settings:
            raise ProfileError(entry, "has no settings (speed=, fail= or price=)")
        entries[mount] = _behaviour(mount, settings, served)
    return Profile(text=text, entries=entries) if entries else None


def _behaviour(mount: str, settings: str, served: dict) -> Behaviour:
    speed, spread, price = None, 0.0, None
    fails: dict[str, float] = {}
    for setting in (s.strip() for s in settings.split(",")):
        name, equals, value = (s.strip() for s in setting.partition("="))
        name = name.lower()
        if not equals or name not in ("speed", "fail", "price"):
            raise ProfileError(setting, "settings are speed=S[±D], fail=R[/CLASS] and price=P")
        if name == "speed":
            if speed is not None:
                raise ProfileError(setting, "speed is given twice")
            speed, spread = _speed(setting, value)
        elif name == "fail":
            fault, rate = _fail(setting, value)
            if fault in fails:
                raise ProfileError(setting, f"{mount} fails as {fault} twice")
            fails[fault] = rate
        else:
            if price is not None:
                raise ProfileError(setting, "price is given twice")
            price = _price(mount, setting, value, served)
    if sum(fails.values()) > 1 + 1e-9:
        raise ProfileError(mount, "its failure rates add up to more than 1 (100%)")
    return Behaviour(speed=speed, spread=spread, fails=tuple(fails.items()), price=price)


def _speed(setting: str, value: str) -> tuple[float, float]:
    found = SPEED.fullmatch(value)
    if not found:
        raise ProfileError(setting, "speed takes seconds, e.g. speed=6 or speed=6±2")
    speed, spread = float(found.group(1)), float(found.group(2) or 0)
    if speed > MAX_SECONDS:
        raise ProfileError(setting, f"speed is at most {MAX_SECONDS} seconds")
    if spread > speed:
        raise ProfileError(setting, "the spread cannot be more than the time itself")
    return speed, spread


def _fail(setting: str, value: str) -> tuple[str, float]:
    found = RATE.fullmatch(value)
    if not found:
        raise ProfileError(setting, "fail takes a fraction or percentage, e.g. fail=0.1/content")
    rate = float(found.group(1)) / (100 if found.group(2) else 1)
    if not 0 <= rate <= 1:
        raise ProfileError(setting, "a failure rate is from 0 to 1 (or 0% to 100%)")
    kind = (found.group(3) or "error").lower()
    if kind not in CLASSES:
        raise ProfileError(kind, f"no such failure class; one of {', '.join(CLASSES)}")
    return CLASSES[kind], rate


def _price(mount: str, setting: str, value: str, served: dict) -> float:
    try:
        price = float(value)
    except ValueError:
        price = -1.0
    if not math.isfinite(price) or price < 0 or not re.fullmatch(NUMBER, value):
        raise ProfileError(setting, "price takes a number of 0 or more, e.g. price=8")
    wires = served.values() if mount == EVERY else [served[mount]]
    if not all(wire.reports_cost for wire in wires):
        reporting = [m for m, wire in served.items() if wire.reports_cost]
        raise ProfileError(
            setting,
            f"{mount}'s vendor reports no cost, so the sandbox has none to report "
            f"(only {', '.join(reporting)} do)",
        )
    return price


def _served() -> dict:
    from flux2web.providers.sandbox.server import mounts

    return mounts()


def _named() -> dict[str, str]:
    """The mount of each provider a fresh install gets on the sandbox, by its name
    ("sandbox kie" -> kie)."""
    from flux2web.providers import catalog

    return {
        d.sandbox_name.lower(): d.sandbox[0].mount
        for d in catalog.DIALECTS.values()
        if d.sandbox and d.sandbox_name
    }


def _num(value: float) -> str:
    return f"{value:g}"
