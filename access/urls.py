from django.urls import path

from .views import audit, invitations, projects, team

app_name = "access"

urlpatterns = [
    path("projects/", projects.project_list, name="project_list"),
    path("projects/connect/", projects.project_connect, name="project_connect"),
    path("projects/<int:pk>/credentials/", projects.project_credentials, name="project_credentials"),
    path("projects/<int:pk>/team/", team.team, name="team"),
    path("projects/<int:pk>/team/add/", team.member_add, name="member_add"),
    path("projects/<int:pk>/team/<int:member_pk>/role/", team.member_role, name="member_role"),
    path("projects/<int:pk>/team/<int:member_pk>/remove/", team.member_remove, name="member_remove"),
    path("projects/<int:pk>/team/<int:member_pk>/deactivate/", team.member_deactivate, name="member_deactivate"),
    path("projects/<int:pk>/team/<int:member_pk>/reactivate/", team.member_reactivate, name="member_reactivate"),
    path("projects/<int:pk>/team/invite/", invitations.invitation_send, name="invitation_send"),
    path(
        "projects/<int:pk>/team/invitations/<int:invitation_pk>/resend/",
        invitations.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "projects/<int:pk>/team/invitations/<int:invitation_pk>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    # The link in an invitation email: for whoever holds it, signed in or not.
    path("invitations/<slug:token>/", invitations.invitation_accept, name="invitation_accept"),
    path("audit/", audit.audit_trail, name="audit"),
]
