from django.urls import path

from .views import backup_create, backup_detail, history, instance_detail, instances, overview

app_name = "backups"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("overview/running/", overview.overview_running, name="overview_running"),
    path("instances/", instances.instance_list, name="instances"),
    path("instances/refresh/", instances.instances_refresh, name="instances_refresh"),
    path("instances/<int:pk>/", instance_detail.instance_detail, name="instance_detail"),
    path("instances/<int:pk>/policy/", instance_detail.instance_policy, name="instance_policy"),
    path("instances/<int:pk>/rpo/", instance_detail.instance_rpo, name="instance_rpo"),
    path("projects/<int:pk>/rpo/", instance_detail.project_rpo, name="project_rpo"),
    path("instances/<int:pk>/backup/", backup_create.backup_create, name="backup_create"),
    path("instances/<int:pk>/backup/validate/", backup_create.backup_validate, name="backup_validate"),
    path("history/", history.history, name="history"),
    path("history/live/", history.history_live, name="history_live"),
    path("history/instances/", history.history_instance_options, name="history_instance_options"),
    path("history/export.csv", history.history_export, name="history_export"),
    path("backups/<int:pk>/", backup_detail.backup_detail, name="backup_detail"),
    path("backups/<int:pk>/live/", backup_detail.backup_live, name="backup_live"),
]
