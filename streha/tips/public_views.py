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

from streha.tips import abuse, selectors, services
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
    return abuse.client_address(request)


def tel(number: str) -> str:
    """A number as a ``tel:`` link target: digits and a leading +, nothing else."""
    digits = "".join(char for char in number if char.isdigit())
    return ("+" + digits) if number.strip().startswith("+") else digits


# Answers to a posted report or follow-up are padded to a multiple of this many bytes, so that
# an accepted and a refused report (or a right and a wrong receipt) are the same size.
PAD_TO = 16384


def padded(response):
    """Pad the HTML with spaces to the next multiple of ``PAD_TO`` bytes."""
    length = len(response.content)
    response.content = response.content + b" " * ((-length) % PAD_TO or 0)
    return response


def _context(request, **extra):
    return {
        "language_links": [(code, name) for code, name in settings.LANGUAGES],
        "hotline": settings.STREHA_HOTLINE_NUMBER,
        "hotline_tel": tel(settings.STREHA_HOTLINE_NUMBER),
        "emergency": settings.STREHA_EMERGENCY_NUMBER,
        "emergency_tel": tel(settings.STREHA_EMERGENCY_NUMBER),
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
    challenge = abuse.new_challenge(_client_address(request))
    context = _context(
        request,
        form=form,
        challenge=challenge,
        refused=refused,
        closed=not services.is_open(),
        noscript_seconds=settings.STREHA_TIP_NOSCRIPT_MIN_SECONDS,
        honeypot=abuse.HONEYPOT,
    )
    return render(request, "tips/report.html", context, status=status)


@public
@never_cache
def report(request):
    """The anonymous report. Missing or wrong fields are said first (they are what a person
    can fix); then the form's checks; a refused report takes as long, and its answer is as
    large, as an accepted one."""
    if request.method != "POST":
        return _render_report(request, ReportForm())
    form = ReportForm(request.POST)
    if not form.is_valid():
        services.spend_report_time()
        return padded(_render_report(request, form, status=400))
    try:
        abuse.check_submission(request.POST, _client_address(request))
        tip, receipt = services.submit_report(**form.cleaned_data)
    except abuse.Refused as refusal:
        services.spend_report_time()
        return padded(_render_report(request, form, status=400, refused=str(refusal)))
    except services.TipLineClosed:
        services.spend_report_time()
        refused = _("The report form cannot take reports right now. Please call the hotline.")
        return padded(_render_report(request, form, status=503, refused=refused))
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return padded(_render_report(request, form, status=400))
    return padded(render(request, "tips/receipt.html", _context(request, receipt=receipt, tip=tip)))


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
        return padded(
            render(
                request,
                "tips/follow_up.html",
                _context(request, form=form, refused=str(refusal)),
                status=429,
            )
        )
    if not form.is_valid():
        return padded(
            render(request, "tips/follow_up.html", _context(request, form=form), status=400)
        )
    access = services.open_receipt(form.cleaned_data["code"], form.cleaned_data["passphrase"])
    if access is None:
        refused = _("This receipt code and passphrase do not match a report.")
        return padded(
            render(
                request,
                "tips/follow_up.html",
                _context(request, form=ReceiptForm(), refused=refused),
                status=400,
            )
        )
    added = False
    if adding:
        try:
            services.add_reporter_message(access.tip, form.cleaned_data["body"])
            added = True
        except ValidationError as error:
            form.add_error("body", error.messages)
        except services.TipLineClosed:
            form.add_error("body", _("The hotline cannot take messages right now."))
    thread = FollowUpForm(
        initial={"code": form.cleaned_data["code"], "passphrase": form.cleaned_data["passphrase"]}
    )
    context = _context(
        request,
        tip=access.tip,
        messages_=selectors.reporter_thread(access),
        form=thread,
        added=added,
        errors=form.errors.get("body"),
    )
    return padded(render(request, "tips/follow_up_thread.html", context))
