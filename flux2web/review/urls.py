from django.urls import path

from flux2web.review import inbox, views

app_name = "review"

urlpatterns = [
    path("images/<int:image_id>/review", views.image, name="image"),
    path("images/<int:image_id>/like", views.like, name="like"),
    path("images/<int:image_id>/comments", views.comment, name="comment"),
    path("comments/<int:comment_id>/delete", views.comment_delete, name="comment_delete"),
    path("collections/<int:pk>/activity", views.activity, name="activity"),
    # Notifications (review.inbox).
    path("notifications/", inbox.notifications, name="notifications"),
    path("notifications/<int:pk>/open", inbox.notification_open, name="notification_open"),
    path("notifications/read", inbox.notifications_read, name="notifications_read"),
    path("notifications/email", inbox.email_settings, name="email_settings"),
    path("notifications/unsubscribe/<str:token>", inbox.unsubscribe, name="unsubscribe"),
]
