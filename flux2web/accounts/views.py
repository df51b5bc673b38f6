"""Setting a password from the one-time link an admin hands on: the person is signed in at
once and lands in the studio, instead of being asked for the password they just chose."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import resolve_url


class SetPasswordView(SuccessMessageMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/set_password.html"
    success_message = "Your password is set, and you are signed in."
    post_reset_login = True
    # login() needs a backend when there are several. The link's token was the proof, so no
    # authenticate() runs and django-axes has nothing to count; its login signal still
    # clears any failed sign-ins of this account.
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def get_success_url(self):
        return resolve_url(settings.LOGIN_REDIRECT_URL)
