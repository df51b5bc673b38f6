"""What the browser tests share: signing in, images with real files, a batch of four."""

import io
import re
import time
from pathlib import Path

from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage
from playwright.sync_api import expect

from flux2web.accounts.models import gallery_changed
from flux2web.jobs.models import Image, Job
from tests.helpers import PASSWORD
from tests.jobs.factories import make_jobs

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def fits(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# What sticks out on the right, to say why a page is too wide.
STICKING_OUT = """(limit) => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > limit + 1)
  .filter(el => !el.parentElement || el.parentElement.getBoundingClientRect().right <= limit + 1)
  .slice(0, 5)
  .map(el => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""


def use_session(page, live_server, client, user):
    """Sign the browser in without the form (the sign-in form has its own tests)."""
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def png_bytes(size, colour=(40, 90, 200), kind="PNG"):
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


def stored_image(owner, prompt, colour):
    job = make_jobs(owner, prompt=prompt)[0]
    image = Image(job=job, owner_id=job.owner_id, provider_url="http://x/1.png", width=320,
                  height=240, status=Image.Status.MIRRORED, content_type="image/png")  # fmt: skip
    image.original.save("o.png", ContentFile(png_bytes((320, 240), colour)), save=False)
    image.thumbnail.save("t.jpg", ContentFile(png_bytes((160, 120), colour, "JPEG")), save=False)
    image.save()
    gallery_changed(owner.pk)
    Job.objects.filter(pk=job.pk).update(state="succeeded", finished_at=timezone.now())
    return image


def sign_in(page, base_url, username="olivia", password=PASSWORD):
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def console_errors(page):
    seen = []
    page.on("console", lambda m: m.type == "error" and seen.append(m.text))
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    return seen


def open_studio(page, live_server, user):
    use_session(page, live_server, Client(), user)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()


COLOURS = [(220, 90, 60), (60, 140, 220), (90, 180, 110), (200, 170, 60)]


def batch_of_four(owner, prompt="a coastline at golden hour, four takes", size=(640, 360)):
    jobs = make_jobs(owner, prompt=prompt, count=4, aspect_ratio="16:9")
    for job, colour in zip(jobs, COLOURS, strict=True):
        image = Image(
            job=job, owner_id=owner.pk, provider_url="http://x/1.png", width=size[0],
            height=size[1], status=Image.Status.MIRRORED, content_type="image/png",
        )  # fmt: skip
        image.original.save("o.png", ContentFile(png_bytes(size, colour)), save=False)
        thumb = (size[0] // 2, size[1] // 2)
        image.thumbnail.save("t.jpg", ContentFile(png_bytes(thumb, colour, "JPEG")), save=False)
        image.save()
        Job.objects.filter(pk=job.pk).update(state="succeeded", finished_at=timezone.now())
    gallery_changed(owner.pk)
    return jobs


def wait_until(page, predicate: str, seconds: float = 10) -> None:
    """Poll `predicate` (a JS function) from here: Playwright's wait_for_function evaluates
    its predicate with eval() inside the page, which our CSP (rightly) forbids."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        page.wait_for_timeout(50)


# What of an element a person cannot see: points (just inside its rounded corners and at
# its centre) where something else is on top (a pinned bar) or that lie outside the window
# or the scrolled panel. An empty list: all of it is in sight.
HIDDEN_PARTS = """(el) => {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height) return ['not shown'];
  const dx = Math.min(8, r.width / 4), dy = Math.min(8, r.height / 4);
  const hidden = [];
  for (const x of [r.left + dx, (r.left + r.right) / 2, r.right - dx])
    for (const y of [r.top + dy, (r.top + r.bottom) / 2, r.bottom - dy]) {
      const top = document.elementFromPoint(x, y);
      const what = top ? `${top.tagName}.${top.className}` : 'nothing';
      if (!top || !el.contains(top)) hidden.push(`${Math.round(x)},${Math.round(y)} under ${what}`);
    }
  return hidden;
}"""


def hidden_parts(locator) -> list[str]:
    return locator.evaluate(HIDDEN_PARTS)
