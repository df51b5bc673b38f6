"""Inviting members and setting limits."""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator

from flux2web.billing.models import Quota


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    first_name = forms.CharField(label="Name", max_length=150, required=False)
    email = forms.EmailField(required=False)
    is_team_admin = forms.BooleanField(label="Team admin", required=False)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f"{username!r} is taken; choose another username.")
        return username


class QuotaForm(forms.ModelForm):
    """Empty means no limit."""

    class Meta:
        model = Quota
        fields = ["monthly_usd", "monthly_images", "max_in_flight"]
        help_texts = {
            "monthly_usd": "USD per calendar month at the providers' prices; empty: no limit.",
            "monthly_images": "Images per calendar month; empty: no limit.",
            "max_in_flight": "Jobs queued or running at once; empty: no limit.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["monthly_usd"].min_value = Decimal(0)
        self.fields["monthly_usd"].widget.attrs.update(min="0", step="0.01")
        self.fields["max_in_flight"].min_value = 1
        self.fields["max_in_flight"].widget.attrs.update(min="1")

    def clean_monthly_usd(self):
        value = self.cleaned_data["monthly_usd"]
        if value is not None and value < 0:
            raise forms.ValidationError("A limit cannot be negative.")
        return value

    def clean_max_in_flight(self):
        value = self.cleaned_data["max_in_flight"]
        if value is not None and value < 1:
            raise forms.ValidationError("Allow at least one job in flight, or leave it empty.")
        return value
