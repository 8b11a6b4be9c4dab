from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import CloudProject


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    projects = CloudProject.objects.filter(memberships__user=request.user)
    return render(request, "backups/overview.html", {"projects": projects})
