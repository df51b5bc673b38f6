"""Health endpoint for load balancers and for people asking "is the worker running?"; the
site's icon at the address clients ask for without reading the page."""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from flux2web.core.models import Heartbeat


@require_GET
@never_cache
@login_not_required
def healthz(request):
    try:
        beat = Heartbeat.objects.worker()
    except DatabaseError:
        return JsonResponse({"database": "error"}, status=503)
    worker = "never seen" if beat is None else ("ok" if beat.is_fresh else "stale")
    return JsonResponse(
        {
            "database": "ok",
            "worker": worker,
            "worker_seen_at": beat.seen_at.isoformat() if beat else None,
        }
    )


@require_safe
@login_not_required
def favicon(request):
    # Pages name the icon in a <link rel="icon">; this answers feed readers, bookmarks and
    # browsers that ask for /favicon.ico anyway, instead of a 404 in every log.
    return HttpResponsePermanentRedirect(static("img/logo.svg"))
