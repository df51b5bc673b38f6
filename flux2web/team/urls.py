from django.urls import path

from flux2web.team import scoreboard, views

app_name = "team"

urlpatterns = [
    path("team/", views.members, name="members"),
    path("team/invite", views.invite, name="invite"),
    path("team/quota", views.team_quota, name="quota"),
    path("team/<int:user_id>/", views.member, name="member"),
    path("team/<int:user_id>/deactivate", views.member_deactivate, name="deactivate"),
    path("team/<int:user_id>/activate", views.member_activate, name="activate"),
    path("team/<int:user_id>/make-admin", views.member_make_admin, name="make_admin"),
    path("team/<int:user_id>/unmake-admin", views.member_unmake_admin, name="unmake_admin"),
    path("team/<int:user_id>/link", views.member_new_link, name="new_link"),
    path("team/usage/", views.dashboard, name="dashboard"),
    path("team/usage.csv", views.usage_csv, name="usage_csv"),
    path("team/uncertain/<int:job_id>", views.resolve, name="resolve"),
    path("usage/", views.my_usage, name="usage"),
    path("scoreboard/", scoreboard.scoreboard, name="scoreboard"),
    path("scoreboard.csv", scoreboard.scoreboard_csv, name="scoreboard_csv"),
]
