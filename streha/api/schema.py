from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance, is_serializer


class AgencyTokenScheme(OpenApiAuthenticationExtension):
    target_class = "streha.api.authentication.AgencyTokenAuthentication"
    name = "agencyToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Agency API token, as `Token strh_…`.",
        }


class StrehaAutoSchema(AutoSchema):
    """The OpenAPI schema of every operation documents every error answer it can give.

    Any operation may answer 400 (a query parameter or body refused), 401 (no or a bad
    credential), 403 (the role, the token's scopes or a missing re-authentication), 404 (no such
    object, or one not visible; a page past the last) and 429 (throttled), all in the one error
    shape (``streha.api.errors``). Operations that name their own meaning for a code keep it."""

    ALWAYS = (400, 401, 403, 404, 429)

    def _is_list_view(self, serializer=None) -> bool:
        """A list answered with one page object (``results`` and the counts) is an object, not
        an array, whatever the action is called."""
        if serializer is not None and is_serializer(serializer):
            fields = getattr(force_instance(serializer), "fields", {})
            if "results" in fields:
                return False
        return super()._is_list_view(serializer)

    def _get_response_bodies(self, direction="response"):
        from streha.api.serializers import ERROR_MEANINGS, ErrorSerializer

        responses = super()._get_response_bodies(direction)
        for code in self.ALWAYS:
            if str(code) not in responses:
                response = self._get_response_for_code(ErrorSerializer, str(code), None, direction)
                response["description"] = ERROR_MEANINGS[code]
                responses[str(code)] = response
        return responses
