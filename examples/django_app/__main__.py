"""A one-file Django app, deployed to Stratus as one web action (see README, "Web apps as one function").

Locally: `pip install -r requirements.txt && python examples/django_app runserver`.
"""

import sys

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="stratus-example-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,  # this module: its `urlpatterns` below
    MIDDLEWARE=[],  # no sessions, no CSRF: a stateless JSON/form API
    INSTALLED_APPS=[],
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after settings.configure)
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<h1>Hello from Django on Stratus</h1>")


def item(request: HttpRequest, item_id: int) -> HttpResponse:
    """A typed path parameter (`<int:item_id>`) and the query string."""
    if item_id > 1000:
        return JsonResponse({"error": "no such item"}, status=404)
    return JsonResponse({"id": item_id, "fields": request.GET.get("fields", "all")})


def contact(request: HttpRequest) -> HttpResponse:
    """A POSTed form; sets a cookie."""
    if request.method != "POST":
        return JsonResponse({"error": "POST a form"}, status=405)
    name = request.POST.get("name", "")
    response = JsonResponse({"thanks": name, "message": request.POST.get("message", "")}, status=201)
    response.set_cookie("contacted", "yes")
    return response


def whoami(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"contacted": request.COOKIES.get("contacted"), "method": request.method})


urlpatterns = [
    path("", index),
    path("items/<int:item_id>", item),
    path("contact", contact),
    path("whoami", whoami),
]

app = get_wsgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
