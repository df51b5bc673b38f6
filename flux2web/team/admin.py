from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from flux2web.team.membership import member_deactivate


@admin.register(get_user_model())
class MemberAdmin(UserAdmin):
    """Django's own user admin, registered here so that switching a person off goes
    through the team's one write path: their share links are revoked with it, as on the
    Team page (a link merely closed while they are away would open again on return)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            member_deactivate(person=obj)
