from django.conf import settings


def console(request):
    """What every page's frame needs: whether this is the demo against the simulator, and
    whether that demo runs with DEBUG off (ALLOW_DEMO_MODE_IN_PRODUCTION), which every page
    then says loudly: its admin's password is in the README."""
    return {"demo_mode": settings.DEMO_MODE, "demo_in_production": settings.DEMO_MODE and not settings.DEBUG}
