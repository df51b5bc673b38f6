"""What providers have said lately: kept on the credential for admins (and routing) to act on."""

from django.utils import timezone

from flux2web.credentials.models import ProviderCredential
from flux2web.providers.types import ProviderError


def record_error(credential: ProviderCredential, error: ProviderError):
    # 401 and 402 matter most: a refused key or an empty account fails every job until an
    # admin acts. The message is the provider's words, never our request or key.
    ProviderCredential.objects.filter(pk=credential.pk).update(
        last_error_at=timezone.now(),
        last_error_class=error.error_class,
        last_error_message=error.message[:500],
    )


def record_success(credential: ProviderCredential):
    ProviderCredential.objects.filter(pk=credential.pk).update(last_success_at=timezone.now())
