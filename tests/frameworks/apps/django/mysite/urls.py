from django.http import HttpResponse
from django.urls import path


def index(request):
    return HttpResponse("django ok\n")


def counter(request):
    request.session["visits"] = request.session.get("visits", 0) + 1
    return HttpResponse(f"visits {request.session['visits']}\n")


urlpatterns = [path("", index), path("session", counter)]
