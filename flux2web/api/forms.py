"""The API tokens page's form: a name and an optional number of days."""

from django import forms

from flux2web.accounts import api_tokens


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=api_tokens.NAME_MAX,
        help_text="What will use it (a script, a tool, a laptop); yours alone.",
    )
    days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=api_tokens.DAYS_MAX,
        help_text="Empty: never.",
    )
