"""The public site: campaign pages, the anonymous report and the anonymous follow-up.

These views set no cookie and keep no session (so they are ``csrf_exempt``: the signed form
token in ``abuse`` protects the report form instead). The language comes from the browser or
from ``?lang=`` in the links of the switcher, never from a cookie.
"""

from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt

from streha.tips import abuse, services
from streha.tips.forms import FollowUpForm, ReceiptForm, ReportForm
from streha.tips.models import CampaignPage

LANGUAGE_PARAMETER = "lang"


def public(view):
    """No cookie, no session; language from ``?lang=`` if given."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        wanted = request.GET.get(LANGUAGE_PARAMETER, "")
        if wanted in dict(settings.LANGUAGES):
            translation.activate(wanted)
            request.LANGUAGE_CODE = wanted
        request.public_language = request.LANGUAGE_CODE
        return view(request, *args, **kwargs)

    return wrapper


def _client_address(request) -> str:
    # Used only for the rate limit, as a keyed hash in the cache; never stored or logged.
    return request.META.get("REMOTE_ADDR", "")


def _context(request, **extra):
    return {
        "language_links": [(code, name) for code, name in settings.LANGUAGES],
        "hotline": settings.STREHA_HOTLINE_NUMBER,
        "emergency": settings.STREHA_EMERGENCY_NUMBER,
        "pages": CampaignPage.objects.filter(published=True).only(
            "slug", "title_sq", "title_sr", "title_en", "order"
        ),
        **extra,
    }


@public
@cache_control(public=True, max_age=300)
def learn_index(request):
    return render(request, "tips/learn_index.html", _context(request))


@public
@cache_control(public=True, max_age=300)
def learn_page(request, slug):
    page = get_object_or_404(CampaignPage, slug=slug, published=True)
    return render(request, "tips/learn_page.html", _context(request, page=page))


def _render_report(request, form, status=200, refused=""):
    challenge = abuse.new_challenge()
    context = _context(
        request,
        form=form,
        challenge=challenge,
        refused=refused,
        noscript_seconds=settings.STREHA_TIP_NOSCRIPT_MIN_SECONDS,
        honeypot=abuse.HONEYPOT,
    )
    return render(request, "tips/report.html", context, status=status)


@public
@never_cache
def report(request):
    if request.method != "POST":
        return _render_report(request, ReportForm())
    form = ReportForm(request.POST)
    try:
        abuse.check_submission(request.POST, _client_address(request))
    except abuse.Refused as refusal:
        return _render_report(request, form, status=400, refused=str(refusal))
    if not form.is_valid():
        return _render_report(request, form, status=400)
    try:
        tip, receipt = services.submit_report(**form.cleaned_data)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return _render_report(request, form, status=400)
    return render(request, "tips/receipt.html", _context(request, receipt=receipt, tip=tip))


@public
@never_cache
def follow_up(request):
    """Read replies and add information. Code and passphrase travel only in POST bodies."""
    if request.method != "POST":
        return render(request, "tips/follow_up.html", _context(request, form=ReceiptForm()))
    adding = "body" in request.POST
    form = (FollowUpForm if adding else ReceiptForm)(request.POST)
    try:
        abuse.check_rate(_client_address(request), scope="follow-up")
    except abuse.Refused as refusal:
        return render(
            request,
            "tips/follow_up.html",
            _context(request, form=form, refused=str(refusal)),
            status=429,
        )
    if not form.is_valid():
        return render(request, "tips/follow_up.html", _context(request, form=form), status=400)
    tip = services.open_receipt(form.cleaned_data["code"], form.cleaned_data["passphrase"])
    if tip is None:
        refused = _("This receipt code and passphrase do not match a report.")
        return render(
            request,
            "tips/follow_up.html",
            _context(request, form=ReceiptForm(), refused=refused),
            status=400,
        )
    added = False
    if adding:
        try:
            services.add_reporter_message(tip, form.cleaned_data["body"])
            added = True
        except ValidationError as error:
            form.add_error("body", error.messages)
    thread = FollowUpForm(
        initial={"code": form.cleaned_data["code"], "passphrase": form.cleaned_data["passphrase"]}
    )
    context = _context(
        request,
        tip=tip,
        messages_=tip.messages.all(),
        form=thread,
        added=added,
        errors=form.errors.get("body"),
    )
    return render(request, "tips/follow_up_thread.html", context)
