"""Forms for collections, team visibility and the team's policy: they validate, services write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from flux2web.accounts.models import TeamPolicy
from flux2web.collections.models import Collection


class CollectionForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ["title", "description", "visibility", "order"]
        labels = {"order": "Order"}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"title": {"required": "Give the collection a title."}}
        help_texts = {
            "visibility": "Private: only you. Team can view: every member sees it. "
            "Team can add: members can also add their own images.",
        }

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the collection a title.")
        return title


class NewCollectionForm(CollectionForm):
    class Meta(CollectionForm.Meta):
        fields = ["title", "description", "visibility"]


class AddToCollectionForm(forms.Form):
    """Into an existing collection the person may add to, or a new one by its title."""

    collection = forms.ModelChoiceField(
        queryset=Collection.objects.none(),
        required=False,
        empty_label="New collection…",
        error_messages={"invalid_choice": "That collection is gone or not open to you."},
    )
    new_title = forms.CharField(label="New collection's title", max_length=120, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.addable_by(user).order_by(
            "title", "pk"
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data["new_title"] = (data.get("new_title") or "").strip()
        if not data.get("collection") and not data["new_title"]:
            self.add_error("new_title", "Choose a collection, or give a new one a title.")
        return data


class ImageSettingsForm(forms.Form):
    new_images_visibility = forms.ChoiceField(
        label="My new images are",
        choices=[
            ("", "As the team's default"),
            ("private", "Private"),
            ("team", "Visible to the team"),
        ],
        required=False,
        widget=forms.RadioSelect,
    )


class TeamPolicyForm(forms.ModelForm):
    class Meta:
        model = TeamPolicy
        fields = [
            "new_images_team_visible",
            "public_links_allowed",
            "link_max_days",
            "link_never_allowed",
            "link_password_required",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["link_max_days"].widget.attrs.update(min="1", max=str(TeamPolicy.LINK_MAX_DAYS))

    def clean_link_max_days(self):
        days = self.cleaned_data["link_max_days"]
        if days is not None and not 1 <= days <= TeamPolicy.LINK_MAX_DAYS:
            raise forms.ValidationError(
                f"At least one day and at most {TeamPolicy.LINK_MAX_DAYS} (ten years), "
                "or empty for no maximum."
            )
        return days


class TeamGalleryFilters(forms.Form):
    person = forms.ChoiceField(label="Made by", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["person"].choices = [("", "Everyone")] + [
            (str(p.pk), str(p)) for p in people.only("username", "first_name", "last_name")
        ]

    def filter_images(self, images):
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("person"):
            images = images.owned_by(data["person"])
        return images
