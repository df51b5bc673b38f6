from django.urls import path

from flux2web.team import views

app_name = "team"

urlpatterns = [
    path("team/", views.members, name="members"),
    path("team/invite", views.invite, name="invite"),
    path("team/quota", views.team_quota, name="quota"),
    path("team/<int:user_id>/", views.member, name="member"),
    path("team/<int:user_id>/<str:action>", views.member_action, name="member_action"),
    path("team/usage/", views.dashboard, name="dashboard"),
    path("team/usage.csv", views.usage_csv, name="usage_csv"),
    path("team/uncertain/<int:job_id>", views.resolve, name="resolve"),
    path("usage/", views.my_usage, name="usage"),
]
