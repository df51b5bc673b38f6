"""The admins' banner: providers the health policy switched off, and why."""

from flux2web.credentials.models import ProviderCredential

ADVICE = {
    "auth": "its API key was refused (401). Enter a working key under Providers.",
    "credits": "its account has run out of credit (402). Top it up, then switch it back on.",
    "key_cap": "its API key's usage cap is used up (433). Raise the key's cap at the provider, "
    "then switch it back on.",
}


def provider_alerts(request):
    """`provider_alerts`: for an admin, a callable the template calls once, where it draws
    the banner (`{% with %}`); a page or fragment that does not draw it pays no query (the
    bell, drawn afresh on kept pages, is rendered with every context processor)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_admin:
        return {}
    return {"provider_alerts": _switched_off}


def _switched_off() -> list:
    switched_off = ProviderCredential.objects.filter(enabled=False, disabled_reason__in=ADVICE)
    return [
        (c, ADVICE[c.disabled_reason]) for c in switched_off.only("pk", "name", "disabled_reason")
    ]
