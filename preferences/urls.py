from django.urls import path

from . import views

app_name = "preferences"

urlpatterns = [
    path("preferences/", views.edit, name="edit"),
    path("preferences/language/", views.language_switch, name="language"),
    path("preferences/theme/", views.theme_switch, name="theme"),
    path("jsi18n/<str:language>.js", views.javascript_catalog, name="javascript_catalog"),
]
