"""What the studio borrows from sharing: remixing an image the person may see (their own or
a teammate's team-visible one), the target collection and visibility of new images, and a
job's family of remixes."""

from __future__ import annotations

from django import forms
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404

from flux2web.collections.models import Collection
from flux2web.jobs.models import Image, Job, seen_by_team
from flux2web.jobs.remix import initial_from_job
from flux2web.lib.ids import parse_id

VISIBILITY = [("private", "Private"), ("team", "Visible to the team")]


def team_visible_by_default(user) -> bool:
    """user.new_images_team_visible, with the team's policy kept for a few seconds: it is
    asked on every studio view and changes rarely (studio/apps.py forgets it on a save)."""
    if user.new_images_visibility:
        return user.new_images_visibility == "team"
    from flux2web.accounts.models import TeamPolicy

    return cache.get_or_set(
        "studio:team-visible-by-default",
        lambda: TeamPolicy.current().new_images_team_visible,
        10,
    )


class StudioExtras(forms.Form):
    """The generation form's sharing choices, validated beside it."""

    collection = forms.ModelChoiceField(
        label="Add to collection",
        queryset=Collection.objects.none(),
        required=False,
        empty_label="None",
        error_messages={"invalid_choice": "That collection is gone or not open to you."},
    )
    # Not sent (an older form, a script): the person's own choice, else the team's default.
    visibility = forms.ChoiceField(label="New images are", choices=VISIBILITY, required=False)
    remix_of = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, user, initial=None):
        initial = {
            "visibility": "team" if team_visible_by_default(user) else "private",
            **(initial or {}),
        }
        super().__init__(data, initial=initial)
        self.user = user
        self.fields["collection"].queryset = Collection.objects.addable_by(user).order_by(
            "title", "pk"
        )
        # Looked up now, with the choices: the page shows them without asking again.
        self.remix_image = self._remix_image()

    def clean_remix_of(self):
        image_id = self.cleaned_data.get("remix_of")
        if image_id and not Image.objects.visible_to(self.user).filter(pk=image_id).exists():
            raise forms.ValidationError("The image you were remixing is no longer shared with you.")
        return image_id

    def _remix_image(self) -> Image | None:
        """The image being remixed, if the person may still see it (the remix notice)."""
        value = self["remix_of"].value()
        image_id = parse_id(value)
        if image_id is None:
            return None
        return (
            Image.objects.visible_to(self.user).select_related("job", "owner").filter(pk=image_id)
        ).first()

    def spec_changes(self) -> dict:
        """What these choices change in the jobs' spec."""
        data = self.cleaned_data
        visibility = data["visibility"]
        return {
            "team_visible": visibility == "team" if visibility else None,
            "remix_of_id": data["remix_of"],
        }

    def carried_over(self) -> StudioExtras:
        """The same choices for the next generation."""
        data = self.cleaned_data
        keep = {
            "collection": data["collection"].pk if data["collection"] else "",
            "visibility": data["visibility"],
            "remix_of": data["remix_of"] or "",
        }
        return StudioExtras(user=self.user, initial=keep)


def remixable_image(user, image_id) -> Image:
    """An image this person may see, or the same 404 as for no image."""
    image_id = parse_id(image_id)
    found = Image.objects.visible_to(user).select_related("job", "owner")
    image = found.filter(pk=image_id).first() if image_id is not None else None
    if image is None:
        raise Http404("No such image.")
    return image


def start_from_image(user, *, image_id, prompt_only: bool) -> tuple[dict, dict]:
    """(the generation form's values, the extras' initial values) to remix an image or
    only reuse its prompt. The studio carries over only the references the person may see
    (studio/references.py carry)."""
    image = remixable_image(user, image_id)
    if prompt_only:
        return {"prompt": image.job.prompt}, {}
    return initial_from_job(image.job), {"remix_of": image.pk}


def studio_part(
    user, *, image_id=None, prompt_only: bool = False, remix_of: int | None = None
) -> tuple[dict, StudioExtras]:
    """What the studio's page shows of collections, asked for once: the form's values
    when it starts from an image the person may see (its prompt alone if `prompt_only`;
    empty without one) and the sharing choices, remixing `remix_of` or that image."""
    data, initial = {}, {}
    if image_id:
        data, initial = start_from_image(user, image_id=image_id, prompt_only=prompt_only)
    elif remix_of:
        initial = {"remix_of": remix_of}
    return data, StudioExtras(user=user, initial=initial)


def family(*, job: Job, user) -> dict:
    """The image this job remixed (if the person may still see it) and the jobs remixed
    from its images that the person may see."""
    parent = None
    if job.remix_of_id:
        parent = (
            Image.objects.visible_to(user)
            .select_related("job", "owner")
            .filter(pk=job.remix_of_id)
            .first()
        )
    children = list(
        Job.objects.visible()
        .filter(remix_of__job=job)
        # Someone else's remix shows once one of its images is visible to the team.
        .filter(Q(owner=user) | seen_by_team("images__"))
        .distinct()
        .select_related("owner")
        .order_by("-id")[:50]
    )
    return {
        "parent": parent,
        "parent_hidden": bool(job.remix_of_id and parent is None),
        "children": children,
    }
