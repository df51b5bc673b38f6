"""The form for a share link's settings; the rules themselves (team policy, expiry bounds)
live in links.py so every caller meets them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from flux2web.accounts.models import TeamPolicy
from flux2web.links import services as links
from flux2web.links.models import ShareLink

PASSWORD_MIN = 8


class LinkForm(forms.Form):
    title = forms.CharField(max_length=120, help_text="Visitors see this as the page title.")
    label = forms.CharField(
        max_length=80, required=False, help_text="Who it is for, e.g. “Client A”. Only you see it."
    )
    readable_address = forms.BooleanField(
        label="Put the title in the address", required=False, initial=True
    )
    expires_on = forms.DateField(
        label="Expires after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    never = forms.BooleanField(label="Never expires", required=False)
    password = forms.CharField(
        required=False,
        # Guesses are throttled to 50 a quarter-hour per link: a PIN would fall in days.
        min_length=PASSWORD_MIN,
        max_length=200,
        strip=False,
        error_messages={
            "min_length": f"A link's password needs at least {PASSWORD_MIN} characters."
        },
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Visitors type it once per browser session.",
    )
    remove_password = forms.BooleanField(label="Remove the password", required=False)
    show_prompts = forms.BooleanField(label="Prompts", required=False)
    show_parameters = forms.BooleanField(label="Parameters (model, ratio, seed)", required=False)
    show_creator = forms.BooleanField(label="Who made each image", required=False)
    show_cost = forms.BooleanField(label="Cost", required=False)
    downloads = forms.ChoiceField(
        choices=ShareLink.Downloads.choices, initial=ShareLink.Downloads.NONE
    )
    allow_preview = forms.BooleanField(
        label="Preview in chats and social posts (title, cover, count; never with a password)",
        required=False,
        initial=True,
    )
    # Client proofing: each switch off until the owner turns it on.
    allow_picks = forms.BooleanField(label="Visitors pick their favourites", required=False)
    picks_min = forms.IntegerField(
        label="At least",
        required=False,
        error_messages={"invalid": "The minimum is a whole number of picks, or empty."},
        widget=forms.NumberInput(attrs={"min": 1, "max": links.MAX_PICKS, "inputmode": "numeric"}),
        help_text="Picks needed to confirm. Empty: any number.",
    )
    picks_max = forms.IntegerField(
        label="At most",
        required=False,
        error_messages={"invalid": "The maximum is a whole number of picks, or empty."},
        widget=forms.NumberInput(attrs={"min": 1, "max": links.MAX_PICKS, "inputmode": "numeric"}),
        help_text=f"Empty: no limit (up to {links.MAX_PICKS}).",
    )
    lock_on_confirm = forms.BooleanField(
        label="Lock a visitor's picks when they confirm", required=False
    )
    picks_deadline = forms.DateTimeField(
        label="Picking closes at",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Give the deadline as a date and a time."},
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Empty: no deadline.",  # with the time zone: see __init__
    )
    allow_comments = forms.BooleanField(
        label="Visitors comment on images and on the whole set", required=False
    )
    show_reviewers = forms.BooleanField(
        label="Visitors see each other's names, picks and comments", required=False
    )

    def __init__(self, *args, link: ShareLink | None = None, shows: int | None = None, **kwargs):
        """`shows`: how many images the link shows (or will, once made), which bounds the
        minimum of picks; None: not checked."""
        self.link = link
        self.shows = shows
        self.policy = TeamPolicy.current()
        if link is not None and not kwargs.get("data") and not (args and args[0]):
            kwargs["initial"] = initial_for(link)
        elif link is None:
            kwargs.setdefault("initial", {})
            kwargs["initial"].setdefault(
                "expires_on", timezone.localtime(links.default_expiry()).date()
            )
        super().__init__(*args, **kwargs)
        if not self.policy.link_never_allowed:
            del self.fields["never"]
        if link is None or not link.password_hash:
            del self.fields["remove_password"]
        if link is not None and link.password_hash:
            self.fields["password"].help_text = "Empty keeps the current password."
        if self.policy.link_password_required:
            self.fields["password"].help_text += " The team requires one."
        # The deadline is read and shown in the site's time zone (there is no per-person
        # one); say which, so an owner abroad does not close picking hours off.
        zone = timezone.get_current_timezone_name()
        self.fields["picks_deadline"].help_text = f"In the site's time zone, {zone}. Empty: none."
        latest = links.latest_expiry(link.created_at if link else timezone.now(), self.policy)
        if latest:
            self.fields["expires_on"].widget.attrs["max"] = timezone.localtime(latest).date()
            self.fields[
                "expires_on"
            ].help_text = f"At most {self.policy.link_max_days} days from when the link is made."

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        _check_day(self, data)
        try:
            links.check_proofing(
                low=data.get("picks_min"),
                high=data.get("picks_max"),
                deadline=data.get("picks_deadline"),
                kept_deadline=self.link.picks_deadline if self.link else None,
            )
        except links.LinkError as error:
            self.apply_error(error)
        else:
            self._check_min_shown(data.get("picks_min"))
        return data

    def _check_min_shown(self, low: int | None) -> None:
        if low is None or self.shows is None or low <= self.shows:
            return
        if self.shows == 0:
            message = "This link shows no images yet; leave the minimum empty."
        else:
            images = f"{self.shows} image{'s' if self.shows != 1 else ''}"
            message = f"This link shows {images}; the minimum can be at most {self.shows}."
        self.add_error("picks_min", message)

    def settings(self) -> links.LinkSettings:
        data = self.cleaned_data
        password = data.get("password") or None  # None: keep the current one
        if data.get("remove_password"):
            password = ""
        if self.link is None and password is None:
            password = ""
        return links.LinkSettings(
            title=data["title"],
            label=data["label"],
            readable_address=data["readable_address"],
            expires_at=expiry(
                data,
                created_at=self.link.created_at if self.link else timezone.now(),
                policy=self.policy,
                kept=self.link.expires_at if self.link else None,
            ),
            password=password,
            show_prompts=data["show_prompts"],
            show_parameters=data["show_parameters"],
            show_creator=data["show_creator"],
            show_cost=data["show_cost"],
            downloads=data["downloads"],
            allow_preview=data["allow_preview"],
            **{field: data[field] for field in links.PROOFING},
        )

    def apply_error(self, error: links.LinkError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, str(error))


def _check_day(form: forms.Form, data: dict) -> None:
    never = data.get("never", False)
    day = data.get("expires_on")
    if not never and not day:
        form.add_error("expires_on", "Pick the last day the link works.")
    elif not never and day > timezone.localdate() + timedelta(days=links.MAX_DAYS):
        # Also keeps the end of the day, in any time zone, inside datetime's range.
        form.add_error(
            "expires_on",
            "Pick a day within ten years, or “Never expires” if the team allows it.",
        )


def expiry(
    data: dict, *, created_at: datetime, policy: TeamPolicy, kept: datetime | None = None
) -> datetime | None:
    """The end of the chosen day (None: never), but never past the team's longest from
    creation; the day of `kept` keeps its exact moment (editing never moves the expiry)."""
    if data.get("never"):
        return None
    day = data["expires_on"]
    if kept and timezone.localtime(kept).date() == day:
        return kept
    end = timezone.make_aware(datetime.combine(day, time.max))
    latest = links.latest_expiry(created_at, policy)
    if latest and end > latest and day <= timezone.localtime(latest).date():
        return latest
    return end


class ExtendForm(forms.Form):
    """A new last day for a link that ran out (the Actions column of an expired link)."""

    expires_on = forms.DateField(
        label="Works until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    never = forms.BooleanField(label="Never expires", required=False)

    def __init__(self, *args, link: ShareLink, **kwargs):
        self.link = link
        self.policy = TeamPolicy.current()
        latest = links.latest_expiry(link.created_at, self.policy)
        default = links.default_expiry()
        kwargs.setdefault(
            "initial",
            {"expires_on": timezone.localtime(min(default, latest) if latest else default).date()},
        )
        super().__init__(*args, **kwargs)
        if not self.policy.link_never_allowed:
            del self.fields["never"]
        attrs = self.fields["expires_on"].widget.attrs
        attrs["min"] = timezone.localdate()
        if latest:
            attrs["max"] = timezone.localtime(latest).date()

    def clean(self):
        data = super().clean()
        if not self.errors:
            _check_day(self, data)
        return data

    def expires_at(self) -> datetime | None:
        return expiry(self.cleaned_data, created_at=self.link.created_at, policy=self.policy)


def initial_for(link: ShareLink) -> dict:
    return {
        "title": link.title,
        "label": link.label,
        "readable_address": bool(link.slug),
        "expires_on": timezone.localtime(link.expires_at).date() if link.expires_at else None,
        "never": link.expires_at is None,
        "show_prompts": link.show_prompts,
        "show_parameters": link.show_parameters,
        "show_creator": link.show_creator,
        "show_cost": link.show_cost,
        "downloads": link.downloads,
        "allow_preview": link.allow_preview,
        **{field: getattr(link, field) for field in links.PROOFING},
    }


class LinkPolicyForm(forms.ModelForm):
    """The team's rules for share links (admins). Only the link fields: the rest of the
    team policy has its own page."""

    class Meta:
        model = TeamPolicy
        fields = [
            "public_links_allowed",
            "link_max_days",
            "link_never_allowed",
            "link_password_required",
        ]
        help_texts = {
            "public_links_allowed": "Off: no new links, and every existing link stops working.",
            "link_max_days": "Counted from when a link is made; also binds existing links. "
            "Empty: no maximum.",
            "link_never_allowed": "Otherwise every link needs an expiry date.",
            "link_password_required": "Existing links without one stop working until their "
            "owner sets one.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["link_max_days"].min_value = 1
        self.fields["link_max_days"].max_value = 3650
        self.fields["link_max_days"].widget.attrs.update(min="1", max="3650")
        self.fields["link_max_days"].validators.append(_days_in_range)


def _days_in_range(value):
    if value is not None and not 1 <= value <= 3650:
        raise forms.ValidationError("Give a number of days from 1 to 3650, or leave it empty.")
