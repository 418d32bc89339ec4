"""Upload of long-format history (unique_id, ds, y): validated once, stored whole or not at all."""

from __future__ import annotations

from dataclasses import asdict
from http import HTTPStatus
from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.bodies import read_within
from api.deps import ActorDep, AuthFirstRoute, SessionDep, allowed
from api.errors import NotFound, RequestRefused, error_responses, problem, refused_unless_role
from api.routes.series import SERIES_ID_REFUSED, SeriesIdPath
from api.schemas import ImportPublic, ObservationPublic
from homeward import planning, repository
from homeward.errors import HeaderProblem
from homeward.ingest import SUPPORTED_CHARSETS, codec_for_charset, parse_upload
from homeward.repository import SYNTHETIC_DEMO_SOURCE, MixesWithSynthetic
from homeward.roles import Action

router = APIRouter(prefix="/v1", tags=["observations"], route_class=AuthFirstRoute)
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
SOURCE = "POST /v1/observations"
# application/vnd.ms-excel: what a browser on Windows sends for a .csv file where Excel is
# installed (the registry's type for the extension), though the file is plain CSV text
CSV_MEDIA_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
# an .xlsx (OOXML, its Content-Type begins so), a macro workbook or an OpenDocument sheet
_WORKBOOK_TYPES = (
    "application/vnd.openxmlformats-officedocument",
    "application/vnd.ms-excel.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
)


async def _raw_body(request: Request) -> bytes:
    """The request body, read on the event loop; parsing and storing then run in a worker thread.

    Refused (413) as soon as it is known to be over ``MAX_UPLOAD_BYTES``: from a declared
    Content-Length before a byte is read, or part-way through a body sent without one (chunked),
    so an oversized upload never sits whole in memory.
    """
    limit = MAX_UPLOAD_BYTES
    return await read_within(request, limit, f"at most {limit:,} bytes")


@router.post(
    "/observations",
    operation_id="upload_observations",
    response_model=ImportPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allowed(Action.UPLOAD)],
    responses={
        200: {"model": ImportPublic, "description": "already stored by import `duplicate_of`"},
        **error_responses(
            409,
            413,
            422,
            said={
                409: "the upload (not sent with `replace=true`) is for series that hold the "
                f"synthetic demo's invented history ('{SYNTHETIC_DEMO_SOURCE}'): refused whole, "
                "nothing stored, with `problems` naming each such series by `series_id`. Send "
                "it again with `?replace=true` to replace those series' history with it",
                413: f"a body over {MAX_UPLOAD_BYTES // 2**20} MiB, refused unread (from its "
                "Content-Length, or as soon as a chunked body passes it); the connection is "
                "closed",
            },
        ),
        **refused_unless_role(Action.UPLOAD),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "a long CSV (`unique_id,ds,y`), UTF-8 unless the Content-Type "
            f"names a charset ({', '.join(SUPPORTED_CHARSETS)}), e.g. "
            "`text/csv; charset=windows-1252`",
            "content": {
                media_type: {
                    "schema": {"type": "string"},
                    "example": "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,31\n",
                }
                for media_type in CSV_MEDIA_TYPES
            },
        }
    },
)
def upload_observations(
    body: Annotated[bytes, Depends(_raw_body)],
    session: SessionDep,
    response: Response,
    actor: ActorDep,
    replace: Annotated[
        bool,
        Query(
            description="replace the stored history of every series in the file with the "
            "file's (periods the file lacks are deleted; series not in it are untouched), in "
            "one transaction; default false: merge, the file's periods replacing stored ones "
            "of the same dates"
        ),
    ] = False,
    # said by the request body's media types: OpenAPI ignores a Content-Type parameter
    content_type: Annotated[str, Header(include_in_schema=False)] = "text/csv",
) -> ImportPublic | JSONResponse:
    """Send a CSV body (Content-Type: text/csv), at most 64 MiB (413 beyond that). A rejected
    upload changes nothing.

    The body is read in the charset the Content-Type names (`text/csv; charset=windows-1252`
    for Excel's "CSV (Comma delimited)"), UTF-8 when it names none. Observations already
    stored whole by an earlier import (a retried upload, whatever its charset, line ends or
    row order) are not stored again: 200 with that import and `duplicate_of` set.

    Series holding the synthetic demo's history are never merged with a council's figures:
    such an upload is refused (409) unless sent with `?replace=true`, which replaces the whole
    stored history of each of its series (also how a restated history is sent).
    """
    parsed = parse_upload(body, source=SOURCE, encoding=_encoding_of(content_type))
    try:
        summary = repository.store_upload(session, parsed.judged, SOURCE, replace, actor)
    except MixesWithSynthetic as exc:
        session.rollback()  # nothing was written; nor is the (empty) transaction kept
        refused = exc.with_remedy(
            "send the same file again to POST /v1/observations?replace=true: each of its "
            "series' stored history is then replaced by the file's"
        )
        return problem(
            status.HTTP_409_CONFLICT,
            HTTPStatus(status.HTTP_409_CONFLICT).phrase,
            str(refused),
            code="demo_series",
            problems=[asdict(p) for p in refused.problems],
        )
    if summary.duplicate:
        response.status_code = status.HTTP_200_OK
    return ImportPublic(
        import_id=summary.import_id,
        rows=summary.rows,
        series=list(summary.series),
        data_hash=summary.data_hash,
        duplicate_of=summary.import_id if summary.duplicate else None,
        revised=summary.revised,
        replace=summary.replace,
        replaced=summary.replaced,
        removed=summary.removed,
        created_by=summary.created_by,
        warnings=[
            *repository.history_warnings(session, summary.series),
            *planning.unplanned_referrals(session, summary.series),
        ],
    )


def _encoding_of(content_type: str) -> str:
    """The charset to read an upload in, from its Content-Type (RFC 9110: media type and
    parameters, case-insensitive names); refuses a media type or charset it cannot read."""
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() == "multipart/form-data":  # a browser form's or `curl -F` upload
        _refuse(
            "text/csv, with the CSV file itself as the request body (curl --data-binary "
            "@file.csv -H 'Content-Type: text/csv'; a page: fetch with the File as its body), "
            "not a form upload",
            media_type,
        )
    if media_type.lower().startswith(_WORKBOOK_TYPES):  # a spreadsheet sent as it is
        _refuse(
            "text/csv: save the workbook as CSV (Excel: File > Save As > CSV UTF-8) and send "
            "that file",
            f"a spreadsheet workbook ({content_type!r})",
        )
    if media_type.lower() not in CSV_MEDIA_TYPES:
        _refuse("text/csv", content_type)
    charsets = [
        value.strip().strip('"')
        for name, _, value in (p.partition("=") for p in parameters)
        if name.strip().lower() == "charset"
    ]
    if not charsets:
        return "utf-8"
    if codec_for_charset(charsets[0]) is None:
        _refuse(f"charset {', '.join(SUPPORTED_CHARSETS)} (none: utf-8)", f"charset={charsets[0]}")
    return charsets[0]  # as sent, so a decoding error names the charset in the user's words


def _refuse(expected: str, found: str) -> NoReturn:
    refused = HeaderProblem(None, "Content-Type", expected, found)
    raise RequestRefused((refused,), "request", "header/Content-Type")


@router.get(
    "/observations/{series_id:path}",
    operation_id="get_observations",
    response_model=list[ObservationPublic],
    dependencies=[allowed(Action.READ)],
    responses=error_responses(
        404,
        422,
        said={
            404: "no series with this id; or the id is a total (a team's or area's, `kind: "
            "total` in GET /v1/series), which has no observations of its own: it is the sum "
            "of its `members` (named in the detail; GET /v1/series/{series_id} lists them), "
            "and its forecasts are at GET /v1/forecasts/{series_id}",
            422: SERIES_ID_REFUSED,
        },
    ),
)
def get_observations(
    series_id: SeriesIdPath,
    session: SessionDep,
    last: Annotated[int | None, Query(ge=1, le=100_000, description="only the newest N")] = None,
) -> list[ObservationPublic]:
    """The stored history of one series, oldest first (GET /v1/observations.csv: every
    series' at once)."""
    if not series_id.strip("/"):
        raise NotFound(
            "no series id: GET /v1/observations/{series_id} serves one series' history "
            "(GET /v1/series lists them), GET /v1/observations.csv every series' at once",
            "no_such_route",
        )
    frame = repository.load_observations(session, [series_id])
    if frame.empty:
        totals = repository.list_forecast_only_series(session, series_id)
        if any(total.id == series_id for total in totals):
            raise NotFound(_total_has_none(session, series_id))
        raise NotFound(f"no series {series_id!r}; GET /v1/series lists the series")
    if last is not None:
        frame = frame.tail(last)
    return [
        ObservationPublic(ds=rec["ds"], y=rec["y"]) for rec in frame[["ds", "y"]].to_dict("records")
    ]


def _total_has_none(session: Session, series_id: str) -> str:
    """Why a total has no observations, naming the series its served forecast sums (its
    `members` in GET /v1/series/{series_id}), whose histories are what it adds up."""
    runs = repository.newest_forecast_runs(session, series_id)
    members = repository.total_members(session, {series_id: runs.get(series_id, 0)})
    summed = members.get(series_id)
    # an area's members are team totals, with no history either: their own members have it
    each = (
        "each a total whose own `members` GET /v1/observations/{id} serves the history of"
        if summed and all(m.startswith(planning.TEAM_PREFIX) for m in summed)
        else "GET /v1/observations/{id} serves each one's history"
    )
    of = (
        f"its members, {', '.join(summed)} (`members` in GET /v1/series/{series_id}; {each})"
        if summed
        else "its districts' series (the run that made its forecast did not record which; "
        "the next pipeline run does, as `members` in GET /v1/series)"
    )
    return (
        f"{series_id!r} is a total with no observations of its own: it is the sum of {of}; "
        f"its forecasts are at GET /v1/forecasts/{series_id}"
    )
