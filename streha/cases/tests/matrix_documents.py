"""Authorization-matrix rows for case documents, merged into matrix.py.

Each scope's case gets one document of kind "identity papers" (field group "identity", which
every case role holds), so every case role inside may list and download it. Adding and
withdrawing need an editing role; the data sent is refused by validation once past the policy
(400: no file; a reason too short), so no row changes the world for the next role.
"""

from streha.testing.matrix import CASE, EDIT, P

NONE: set = set()
INSIDE_403 = {role: 403 for role in CASE - EDIT}
UPLOAD = {"kind": "identity_papers", "title": "Passport"}
TOO_SHORT_REASON = {"reason": "-"}

HTML = {
    "cases:documents": P(CASE, NONE, path="/cases/{case}/documents/"),
    "cases:document_upload": P(
        EDIT, NONE, method="post", path="/cases/{case}/documents/upload/", data=UPLOAD
    ),
    "cases:document": P(CASE, NONE, path="/cases/{case}/documents/{case_document}/"),
    "cases:document_withdraw": P(
        EDIT,
        NONE,
        method="post",
        path="/cases/{case}/documents/{case_document}/withdraw/",
        data=TOO_SHORT_REASON,
    ),
}
API = {
    ("/api/v1/cases/{case_public_id}/documents/", "get"): P(
        CASE, NONE, path="/api/v1/cases/{case}/documents/"
    ),
    ("/api/v1/cases/{case_public_id}/documents/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/documents/",
        data=UPLOAD,
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/cases/{case_public_id}/documents/{document_id}/", "get"): P(
        CASE, NONE, path="/api/v1/cases/{case}/documents/{case_document}/"
    ),
    ("/api/v1/cases/{case_public_id}/documents/{document_id}/withdraw/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/documents/{case_document}/withdraw/",
        data=TOO_SHORT_REASON,
        refused_inside=INSIDE_403,
    ),
}


def extend_world(world: dict) -> None:
    """Add document objects to each scope of the matrix world (after matrix.extend_world)."""
    from streha.cases.models import Case, CaseDocument, CaseDocumentKind

    for scope in ("in", "out"):
        document = CaseDocument(
            case=Case.objects.get(public_id=world[scope]["case"]),
            kind=CaseDocumentKind.IDENTITY_PAPERS,
            title="Passport",
            file_name="passport.pdf",
            content=b"%PDF-1.4 matrix",
            content_type="application/pdf",
            size=15,
        )
        document.save()
        world[scope]["case_document"] = document.public_id
