"""Page numbers of the API's lists."""

from rest_framework.pagination import PageNumberPagination


class StrehaPagination(PageNumberPagination):
    """Page numbers: a page that is not a whole number from 1 (``page=null``, ``page=x``) is
    a 400 with a message, not the "invalid page" 404; a page past the last stays a 404."""

    def paginate_queryset(self, queryset, request, view=None):
        from streha.api.serializers import PageQuerySerializer

        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            PageQuerySerializer(data={"page": raw}).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)
