"""Generate images from the shell: queue jobs, optionally wait for them, print what happened."""

import dataclasses
import json
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from flux2web.core.models import Heartbeat
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import following, mirroring, poller, services
from flux2web.jobs.models import Job
from flux2web.lib.addresses import url_syntax_problem
from flux2web.providers.catalog import Problem, every_option, known_choices
from flux2web.providers.types import SHARED_FIELDS, GenerationRequest, Model
from flux2web.studio import references

State = Job.State
DONE = (*Job.FINAL, State.UNCERTAIN)


class Command(BaseCommand):
    help = "Queue FLUX.2 generations for a user; --wait follows them to stored images."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username the jobs belong to.")
        parser.add_argument("--prompt", help="The prompt (or use --from-file).")
        parser.add_argument("--from-file", help="One prompt per line; # starts a comment.")
        parser.add_argument("--model", choices=[m.value for m in Model], default="pro")
        parser.add_argument("--provider", help="A provider's name; default: Auto (team routing).")
        for spec in SHARED_FIELDS:  # every dialect's, each under the request's own name
            if spec.kind == "switch":
                kind = {"action": "store_true"}
            else:
                kind = {"type": int if spec.kind == "number" else str}
            parser.add_argument(spec.flag, dest=spec.name, help=spec.help or None, **kind)
        for option in every_option().values():  # each vendor's own, where it takes them
            if option.is_switch:
                parser.add_argument(
                    option.flag, dest=option.name, action="store_true", help=option.label + "."
                )
            else:
                choices = " or ".join(known_choices(option.name))
                parser.add_argument(
                    option.flag,
                    dest=option.name,
                    default="",
                    help=f"{option.label}: {choices} (default: {option.default_label.lower()}).",
                )
        parser.add_argument(
            "--ref",
            action="append",
            default=[],
            metavar="URL",
            help="A reference image URL (repeat for more).",
        )
        parser.add_argument("--count", type=int, default=1, help="Images per prompt (1-4).")
        parser.add_argument("--wait", action="store_true", help="Wait until every job ends.")
        parser.add_argument("--timeout", type=float, default=900, help="Seconds --wait waits.")
        parser.add_argument("--json", action="store_true", help="One JSON object per job.")

    def handle(self, *args, **o):
        owner = self._user(o["user"])
        provider = self._provider(o["provider"])
        unreadable = [
            Problem("reference_urls", f"Reference image {number} {problem}.")
            for number, url in enumerate(o["ref"], start=1)
            if (problem := url_syntax_problem(url))
        ]
        if unreadable:
            self._refuse([(None, unreadable)], several=False)
        # Our own upload links under PUBLIC_URL: the user's re-signed, others' judged.
        refs = references.take_references(o["ref"], owner=owner, base=settings.PUBLIC_URL)
        specs = [
            services.JobSpec(
                request=self._request(prompt, o, refs.urls),
                provider=provider,
                count=o["count"],
                trusted_references=refs.ours,
            )
            for prompt in self._prompts(o["prompt"], o["from_file"])
        ]
        refusals = [(n, services.check_spec(spec)) for n, spec in enumerate(specs, start=1)]
        refusals = [(n, problems) for n, problems in refusals if problems]
        if not refusals and not refs.problems and specs:
            # Each pasted --ref is fetched once, here, for the whole batch.
            if fetched := services.fetch_references(specs[0]):
                refusals.append((None, fetched))
            pasted = frozenset(u for u in refs.urls if u not in refs.ours)
            specs = [dataclasses.replace(s, fetched_references=pasted) for s in specs]
        if refs.problems:
            refusals.insert(0, (None, refs.problems))
        if refusals:
            self._refuse(refusals, several=len(specs) > 1)
        try:
            # The whole batch at once: its quota is checked for every prompt together, and
            # a refusal creates nothing.
            jobs = services.create_batch(owner=owner, specs=specs, idempotency_key=uuid.uuid4().hex)
        except services.JobRefused as refused:
            self._refuse([(None, refused.problems)], several=False)
        if not o["json"]:
            for job in jobs:
                self.stdout.write(f"job {job.pk} queued: {job.prompt[:60]!r}")
        if o["wait"]:
            jobs = self._wait([j.pk for j in jobs], o["timeout"])
        for job in jobs:
            self.stdout.write(json.dumps(describe(job)) if o["json"] else summary(job))
        if o["wait"] and any(job.state != State.SUCCEEDED for job in jobs):
            raise SystemExit(1)

    def _refuse(self, refusals, *, several: bool):
        lines = ["Refused; nothing was queued:"]
        for number, problems in refusals:
            where = f" (prompt {number})" if several and number else ""
            lines += [f"  {p.field}{where}: {p.message}" for p in problems]
        raise CommandError("\n".join(lines), returncode=2)

    def _user(self, username):
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user named {username!r}.")
        return user

    def _provider(self, name):
        if not name:
            return None
        found = ProviderCredential.objects.filter(name__iexact=name.strip()).first()
        if found is None:
            known = ", ".join(ProviderCredential.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No provider named {name!r}. Known: {known}.")
        return found

    def _prompts(self, prompt, path):
        prompts = [prompt] if prompt else []
        if path:
            try:
                lines = Path(path).read_text().splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read prompts from {path}: {exc.strerror}.") from None
            except UnicodeDecodeError:
                raise CommandError(f"{path} is not a text file of prompts.") from None
            prompts += [
                ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")
            ]
        if not prompts:
            raise CommandError("Give a prompt: --prompt TEXT or --from-file FILE.")
        return prompts

    def _request(self, prompt, o, refs) -> GenerationRequest:
        return GenerationRequest(
            model=Model(o["model"]),
            prompt=prompt,
            **{spec.name: o[spec.name] for spec in SHARED_FIELDS},
            options={
                name: value
                for name, option in every_option().items()
                if (value := option.parse(o[name]))
            },
            reference_urls=tuple(refs),
        )

    def _wait(self, ids, timeout):
        deadline = time.monotonic() + timeout
        inline = False
        while True:
            jobs = list(Job.objects.filter(pk__in=ids).select_related("provider").order_by("pk"))
            if all(job.state in DONE for job in jobs) or time.monotonic() > deadline:
                return jobs
            if not worker_alive():
                if not inline:
                    self.stderr.write("No worker is running; following the jobs from here.")
                    inline = True
                follow_until_done(jobs)
            time.sleep(0.2)


def worker_alive() -> bool:
    return Heartbeat.objects.worker_alive() or poller.poller_alive()


def follow_until_done(jobs):
    """What the worker would do for these jobs, done here; every step is claim-guarded."""
    for job in jobs:
        if job.state == State.QUEUED:
            services.submit_job(job_id=job.pk)
        elif job.state == State.MIRRORING:
            mirroring.mirror_job(job_id=job.pk)
    following.poll_due(job_ids=[j.pk for j in jobs if j.state == State.RUNNING])


def image_path(name: str) -> str:
    try:
        return default_storage.path(name)
    except NotImplementedError:  # remote storage: the object's name is its address
        return name


def describe(job: Job) -> dict:
    images = list(job.images.filter(status="mirrored"))
    return {
        "id": job.pk,
        "state": job.state,
        "provider": job.provider.name if job.provider else None,
        "task_id": job.provider_task_id or None,
        "images": [image_path(i.original.name) for i in images],
        "width": images[0].width if images else None,
        "height": images[0].height if images else None,
        "error": f"{job.error_class}: {job.error_message}" if job.error_class else None,
    }


def summary(job: Job) -> str:
    info = describe(job)
    line = f"job {job.pk} {job.state}"
    if info["provider"]:
        line += f" via {info['provider']}"
    if info["images"]:
        line += f": {', '.join(info['images'])} ({info['width']}x{info['height']})"
    if info["error"]:
        line += f" - {info['error']}"
    return line
