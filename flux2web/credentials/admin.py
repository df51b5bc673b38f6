"""Django admin for provider credentials: the keys are write-only, shown only by last 4."""

from django import forms
from django.contrib import admin

from flux2web.credentials.forms import KeysAndLimit
from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import credential_save


class CredentialForm(KeysAndLimit, forms.ModelForm):
    base_url = forms.URLField(max_length=300, assume_scheme="https")
    api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only. Leave empty to keep the current key.",
    )
    hmac_key = forms.CharField(
        label="Webhook HMAC key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="KIE only, optional. Write-only. Leave empty to keep the current one.",
    )
    clear_hmac_key = forms.BooleanField(required=False, label="Remove the HMAC key")

    class Meta:
        model = ProviderCredential
        fields = [
            "name", "dialect", "base_url", "priority", "enabled", "create_limit_count",
            "create_limit_seconds"
        ]  # fmt: skip

    def clean_api_key(self):
        if not self.cleaned_data["api_key"] and not self.instance.api_key_encrypted:
            raise forms.ValidationError("A new provider needs an API key.")
        return super().clean_api_key()

    def save(self, commit=True):
        # Through the one write path, as the provider form and the command line go.
        data = self.cleaned_data
        return credential_save(
            super().save(commit=False),
            enabled=data["enabled"],
            create_limit=(data.get("create_limit_count"), data.get("create_limit_seconds")),
            api_key=data["api_key"],
            hmac_key=data["hmac_key"],
            clear_hmac_key=data["clear_hmac_key"],
        )


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = [
        "name", "dialect", "base_url", "priority", "enabled", "key_hint",
        "create_limit_words"
    ]  # fmt: skip
    list_filter = ["dialect", "enabled"]
    readonly_fields = ["key_hint", "has_hmac_key", "created_at", "updated_at"]
    fields = [
        "name", "dialect", "base_url", "priority", "enabled", "create_limit_count",
        "create_limit_seconds", "key_hint", "api_key", "has_hmac_key", "hmac_key",
        "clear_hmac_key", "created_at", "updated_at"
    ]  # fmt: skip
