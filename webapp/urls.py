from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from access.views.accounts import PasswordChange
from api.api import api
from webapp.metrics.views import metrics

urlpatterns = [
    path("", include("backups.urls")),
    path("", include("restores.urls")),
    path("", include("access.urls")),
    path("", include("notifications.urls")),
    path("", include("api.urls")),
    path("", include("preferences.urls")),
    path("api/v1/", api.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChange.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
]
