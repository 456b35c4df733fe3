from django.conf import settings

from streha.web.navigation import navigation_for


def shell(request):
    user = getattr(request, "user", None)
    return {
        "demo_mode": settings.DEMO_MODE,
        "navigation": navigation_for(user, request.path) if user is not None else [],
    }
