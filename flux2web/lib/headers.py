"""Headers for responses that carry a stored file rather than a page."""

from functools import wraps

# An image opened on its own: nothing may run or load but the image itself, and the
# browser's own image viewer styles. A file that is not really an image can do no harm.
STORED_FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def stored_file(view):
    """Serve the view's file with no content sniffing and the restrictive policy above."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = STORED_FILE_CSP
        return response

    return wrapped


class NoStoreForPeople:
    """Pages shown to a signed-in person show live state (cards in flight, a gallery that
    just changed): the browser keeps none of them, so Back asks again instead of showing the
    past. Responses that set their own Cache-Control (stored images, downloads) keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and "Cache-Control" not in response
            and response.get("Content-Type", "").startswith("text/html")
        ):
            response["Cache-Control"] = "no-store"
        return response
