from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from streha.web.selectors import my_work


@login_required
def home(request):
    return render(request, "web/home.html", {"panels": my_work(request.user)})


def handler_404(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "not_found", "message": gettext("Not found.")}}, status=404
        )
    return render(request, "404.html", status=404)


def handler_500(request):
    return render(request, "500.html", status=500)
