from django.urls import path

from .views import audit, backup_create, backup_detail, history, instances, overview, projects, team

app_name = "backups"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("overview/running/", overview.overview_running, name="overview_running"),
    path("instances/", instances.instance_list, name="instances"),
    path("instances/refresh/", instances.instances_refresh, name="instances_refresh"),
    path("instances/<int:pk>/backup/", backup_create.backup_create, name="backup_create"),
    path("instances/<int:pk>/backup/validate/", backup_create.backup_validate, name="backup_validate"),
    path("history/", history.history, name="history"),
    path("history/export.csv", history.history_export, name="history_export"),
    path("backups/<int:pk>/", backup_detail.backup_detail, name="backup_detail"),
    path("backups/<int:pk>/row/", history.backup_row, name="backup_row"),
    # Team and access
    path("projects/", projects.project_list, name="project_list"),
    path("projects/connect/", projects.project_connect, name="project_connect"),
    path("projects/<int:pk>/credentials/", projects.project_credentials, name="project_credentials"),
    path("projects/<int:pk>/team/", team.team, name="team"),
    path("projects/<int:pk>/team/add/", team.member_add, name="member_add"),
    path("projects/<int:pk>/team/<int:member_pk>/role/", team.member_role, name="member_role"),
    path("projects/<int:pk>/team/<int:member_pk>/remove/", team.member_remove, name="member_remove"),
    path("projects/<int:pk>/team/<int:member_pk>/deactivate/", team.member_deactivate, name="member_deactivate"),
    path("projects/<int:pk>/team/<int:member_pk>/reactivate/", team.member_reactivate, name="member_reactivate"),
    path("audit/", audit.audit_trail, name="audit"),
]
