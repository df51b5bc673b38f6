"""Provider callbacks: public, so the per-job secret in the URL is the only key in."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from flux2web.jobs.callbacks import receive_callback

MAX_CALLBACK_BYTES = 256 * 1024


@csrf_exempt
@require_POST
@login_not_required
def callback(request, job_id: int, secret: str):
    length = (request.headers.get("Content-Length") or "0").strip()
    if not (length.isascii() and length.isdigit()):
        return JsonResponse({"ok": False, "message": "Bad Content-Length."}, status=400)
    if len(length) > 9 or int(length) > MAX_CALLBACK_BYTES:
        return JsonResponse({"ok": False, "message": "Body too large."}, status=413)
    answer = receive_callback(
        job_id=job_id, secret=secret, body=request.body, headers=request.headers
    )
    return JsonResponse(
        {"ok": answer.status == 200, "message": answer.message}, status=answer.status
    )
