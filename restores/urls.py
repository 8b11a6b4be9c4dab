from django.urls import path

from .views import rehearsals, restore_create, restore_detail

app_name = "restores"

urlpatterns = [
    path("backups/<int:pk>/restore/", restore_create.restore_create, name="restore_create"),
    path("instances/<int:pk>/restore/", restore_create.restore_point_in_time, name="restore_point_in_time"),
    path("instances/<int:pk>/restore/window/", restore_create.restore_window, name="restore_window"),
    path("instances/<int:pk>/rehearse/", rehearsals.rehearsal_start, name="rehearsal_start"),
    path("instances/<int:pk>/rehearsals/schedule/", rehearsals.rehearsal_schedule, name="rehearsal_schedule"),
    path("restores/<int:pk>/", restore_detail.restore_detail, name="restore_detail"),
]
