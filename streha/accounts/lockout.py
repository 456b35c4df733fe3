"""How django-axes recognises whose sign-in failed.

allauth's form names the field ``login``; Django's ``authenticate()`` receives it as
``username``. Usernames are compared case-insensitively so "Ana" and "ana" share one counter.
"""


def username_of_attempt(request, credentials: dict | None) -> str:
    username = (credentials or {}).get("username")
    if not username and request is not None and request.method == "POST":
        username = request.POST.get("login") or request.POST.get("username")
    return (username or "").strip().lower()
