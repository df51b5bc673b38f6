"""Read-mostly admin for jobs: events are append-only and never edited here."""

from django.contrib import admin

from flux2web.jobs.models import Image, Job, JobEvent


class EventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = [
        "at",
        "kind",
        "from_state",
        "to_state",
        "provider",
        "method",
        "path",
        "http_status",
        "duration_ms",
        "message",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ImageInline(admin.TabularInline):
    model = Image
    extra = 0
    can_delete = False
    fields = [
        "index",
        "status",
        "width",
        "height",
        "bytes",
        "content_type",
        "mirrored_at",
        "last_error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "state", "model", "provider", "created_at", "error_class"]
    list_filter = ["state", "model", "provider"]
    search_fields = ["prompt", "provider_task_id"]
    readonly_fields = [f.name for f in Job._meta.fields]
    inlines = [ImageInline, EventInline]

    def has_add_permission(self, request):
        return False
