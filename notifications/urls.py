from django.urls import path

from .views import channels, subscriptions

app_name = "notifications"

urlpatterns = [
    path("projects/<int:pk>/channels/", channels.channels, name="channels"),
    path("projects/<int:pk>/channels/<int:channel_pk>/", channels.channel_edit, name="channel_edit"),
    path("projects/<int:pk>/channels/<int:channel_pk>/remove/", channels.channel_remove, name="channel_remove"),
    path("projects/<int:pk>/channels/<int:channel_pk>/test/", channels.channel_test, name="channel_test"),
    path("accounts/notifications/", subscriptions.my_notifications, name="mine"),
]
