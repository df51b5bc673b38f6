"""The gallery's search and filters."""

from django import forms
from django.core.cache import cache

from flux2web.credentials.models import ProviderCredential
from flux2web.providers.types import Model

PROVIDER_CHOICES_KEY = "gallery:provider-choices"


def provider_choices() -> list[tuple[str, str]]:
    # On every gallery view, and providers change rarely: a save forgets this process's
    # copy at once (gallery/apps.py); other processes' copies expire within a minute.
    return cache.get_or_set(
        PROVIDER_CHOICES_KEY,
        lambda: [
            (str(pk), name) for pk, name in ProviderCredential.objects.values_list("pk", "name")
        ],
        60,
    )


class GalleryFilters(forms.Form):
    q = forms.CharField(label="Search prompts", required=False, max_length=200)
    model = forms.ChoiceField(label="Model", required=False)
    provider = forms.ChoiceField(label="Provider", required=False)
    favourites = forms.BooleanField(label="Favourites only", required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Any model")] + [
            (m.value, f"FLUX.2 [{m.value}]") for m in Model
        ]
        self.fields["provider"].choices = [("", "Any provider"), *provider_choices()]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filter_images(self, images):
        """Narrow an Image queryset by what is valid; invalid filters are ignored (and shown)."""
        data = self.cleaned_data if self.is_valid() else {}
        for word in (data.get("q") or "").split()[:8]:
            images = images.filter(job__prompt__icontains=word)
        if data.get("model"):
            images = images.filter(job__model=data["model"])
        if data.get("provider"):
            images = images.filter(job__provider_id=data["provider"])
        if data.get("favourites"):
            images = images.filter(job__favourite=True)
        if data.get("since"):
            images = images.filter(job__created_at__date__gte=data["since"])
        if data.get("until"):
            images = images.filter(job__created_at__date__lte=data["until"])
        return images
