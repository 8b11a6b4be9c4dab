from django.conf import settings


def console(request):
    """What every page's frame needs: whether this is the demo against the simulator."""
    return {"demo_mode": settings.DEMO_MODE}
