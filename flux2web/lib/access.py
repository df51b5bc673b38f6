"""Who may do what: team admins run the team; everyone else gets a 403."""

from functools import wraps

from django.core.exceptions import PermissionDenied


def admin_required(view):
    """Signed-out visitors are sent to sign in by LoginRequiredMiddleware before this runs."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_admin:
            raise PermissionDenied("Only team admins can do this.")
        return view(request, *args, **kwargs)

    return wrapped
