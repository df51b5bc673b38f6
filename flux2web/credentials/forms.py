"""The in-app provider forms: keys are write-only, prices and models per credential."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from flux2web.accounts.models import TeamPolicy
from flux2web.credentials.models import DIALECT_CHOICES, ProviderCredential, check_secret
from flux2web.credentials.services import (
    MAX_CREATE_LIMIT,
    MAX_CREATE_WINDOW,
    MAX_PRIORITY,
    check_base_url,
    check_create_limit,
    credential_save,
)
from flux2web.providers.catalog import DIALECTS

KEY_WIDGET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


class KeysAndLimit:
    """The checks the provider form and the admin's form share: write-only keys (empty:
    keep the one stored) and a create limit that the vendor would accept."""

    def clean_api_key(self):
        value = self.cleaned_data["api_key"]
        return check_secret(value, "API key") if value else ""

    def clean_hmac_key(self):
        value = self.cleaned_data["hmac_key"]
        return check_secret(value, "webhook HMAC key") if value else ""

    def clean(self):
        data = super().clean()
        if "create_limit_count" in data and "create_limit_seconds" in data:
            try:
                check_create_limit(data["create_limit_count"], data["create_limit_seconds"])
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data


class ProviderForm(KeysAndLimit, forms.Form):
    name = forms.CharField(max_length=60)
    dialect = forms.ChoiceField(choices=DIALECT_CHOICES, label="API dialect")
    base_url = forms.CharField(label="Base URL", max_length=300)
    priority = forms.IntegerField(
        min_value=0, max_value=MAX_PRIORITY, initial=100, help_text="Lower is tried first."
    )
    enabled = forms.BooleanField(required=False, initial=True)
    create_limit_count = forms.IntegerField(
        label="At most this many new tasks",
        required=False,
        min_value=0,
        max_value=MAX_CREATE_LIMIT,
        help_text="Empty: the vendor's documented limit (KIE: 20 per 10 s); 0: no limit. "
        "New tasks are paced under it, so the vendor never refuses one.",
    )
    create_limit_seconds = forms.IntegerField(
        label="per this many seconds", required=False, min_value=1, max_value=MAX_CREATE_WINDOW
    )
    api_key = forms.CharField(
        label="API key",
        required=False,
        widget=KEY_WIDGET,
        help_text="Write-only: never shown again, only its last 4 characters.",
    )
    hmac_key = forms.CharField(
        label="Webhook HMAC key",
        required=False,
        widget=KEY_WIDGET,
        help_text="KIE-style providers only, optional; write-only.",
    )
    clear_hmac_key = forms.BooleanField(label="Remove the HMAC key", required=False)

    def __init__(self, *args, instance: ProviderCredential | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "dialect": instance.dialect,
                    "base_url": instance.base_url,
                    "priority": instance.priority,
                    "enabled": instance.enabled,
                    "create_limit_count": instance.create_limit_count,
                    "create_limit_seconds": instance.create_limit_seconds,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is None:
            self.fields["api_key"].required = True
            del self.fields["clear_hmac_key"]
            return
        self.fields["dialect"].disabled = True  # jobs in flight speak it
        self.fields[
            "api_key"
        ].help_text = f"Now …{instance.api_key_last4}. Leave empty to keep it; write-only."
        dialect = DIALECTS[instance.dialect]
        self.fields["models_offered"] = forms.MultipleChoiceField(
            label="Models offered",
            required=False,
            widget=forms.CheckboxSelectMultiple,
            choices=[(m.value, f"FLUX.2 [{m.value}]") for m in dialect.models],
            initial=instance.models_offered or [m.value for m in dialect.models],
        )
        own = instance.prices or {}
        for model, caps in dialect.models.items():
            for resolution, default in caps.prices.items():
                self.fields[price_field(model, resolution)] = forms.DecimalField(
                    label=f"FLUX.2 [{model.value}] {resolution or 'any size'}",
                    min_value=Decimal(0),
                    max_value=Decimal(100),
                    decimal_places=4,
                    initial=own.get(model.value, {}).get(resolution, default),
                    help_text=f"USD per image (catalog: {default}).",
                )

    @property
    def price_fields(self):
        return [self[name] for name in self.fields if name.startswith("price__")]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = ProviderCredential.objects.filter(name__iexact=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"A provider named {name!r} exists already.")
        return name

    def clean_base_url(self):
        return check_base_url(self.cleaned_data["base_url"])

    def clean_models_offered(self):
        chosen = self.cleaned_data["models_offered"]
        if not chosen:
            raise forms.ValidationError("Offer at least one model, or switch the provider off.")
        return chosen

    def save(self) -> ProviderCredential:
        data = self.cleaned_data
        credential = self.instance or ProviderCredential(dialect=data["dialect"])
        credential.name = data["name"]
        credential.base_url = data["base_url"]
        credential.priority = data["priority"]
        if self.instance is not None:
            all_models = [m.value for m in DIALECTS[credential.dialect].models]
            offered = data["models_offered"]
            credential.models_offered = [] if sorted(offered) == sorted(all_models) else offered
            prices: dict[str, dict[str, str]] = {}
            for model, caps in DIALECTS[credential.dialect].models.items():
                for resolution, default in caps.prices.items():
                    value = data[price_field(model, resolution)]
                    if value != default:
                        prices.setdefault(model.value, {})[resolution] = str(value)
            credential.prices = prices
        return credential_save(
            credential,
            enabled=data["enabled"],
            create_limit=(data["create_limit_count"], data["create_limit_seconds"]),
            api_key=data["api_key"],
            hmac_key=data["hmac_key"],
            clear_hmac_key=data.get("clear_hmac_key", False),
        )


def price_field(model, resolution: str) -> str:
    return f"price__{model.value}__{resolution or 'any'}"


class RoutingForm(forms.ModelForm):
    """How Auto picks a provider (jobs/auto.py reads it), with what each strategy does."""

    EXPLAINED = {
        TeamPolicy.Routing.PRIORITY: "Lowest priority number first; the next one if it refuses.",
        TeamPolicy.Routing.CHEAPEST: "Lowest price per image for the job's model and "
        "resolution; ties by priority.",
        TeamPolicy.Routing.FASTEST: "Shortest median time from submit to stored over the last "
        "day, among providers with enough jobs; the others after them, by priority.",
    }
    SAID = {
        TeamPolicy.Routing.PRIORITY: "the first provider by priority",
        TeamPolicy.Routing.CHEAPEST: "the cheapest provider that works",
        TeamPolicy.Routing.FASTEST: "the fastest provider that works",
    }

    class Meta:
        model = TeamPolicy
        fields = ["routing", "routing_min_jobs", "routing_health_percent"]
        labels = {"routing": "Auto sends each job to"}
        widgets = {"routing": forms.RadioSelect}
        error_messages = {
            "routing": {
                "invalid_choice": "Choose priority, cheapest that works or fastest that works.",
                "required": "Choose priority, cheapest that works or fastest that works.",
            }
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        f = self.fields
        f["routing"].choices = list(TeamPolicy.Routing.choices)
        f["routing_min_jobs"] = forms.IntegerField(
            label=f["routing_min_jobs"].label.capitalize(),
            min_value=1,
            max_value=1000,
            help_text="Succeeded jobs over the last day before Fastest trusts a provider's "
            "median; fewer: it goes after those with one, by priority.",
        )
        f["routing_health_percent"] = forms.IntegerField(
            label=f["routing_health_percent"].label.capitalize(),
            min_value=0,
            max_value=100,
            help_text="Over its last 10 jobs in the last hour (at least 5 of them); every "
            "strategy skips it until a trial job finds it working. 0 never skips.",
        )

    @property
    def strategies(self) -> list[tuple[str, str, str]]:
        """(value, label, what it does) for each strategy, as the page lists them."""
        return [
            (value, label, self.EXPLAINED[value]) for value, label in TeamPolicy.Routing.choices
        ]

    def saved_words(self) -> str:
        return f"Auto now sends each job to {self.SAID[self.instance.routing]}."
