//! 佐证材料 through the API: list a matter's attachments, upload one (multipart), download one
//! (the same headers as the page: sniffed type, `nosniff`, attachment, a sandboxing CSP), and
//! withdraw one (`DELETE`). The same use cases and rules as the matter page.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taizhang_app::AppError;
use taizhang_app::ledger::attachments::{self as att, AttachmentInfo};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiQuery, PathId, bad};
use super::types::{Created, ErrorBody};
use super::{error_response, json_ok};
use crate::AppState;
use crate::attachment_pages::{
    UploadError, file_response, open_upload, parse_report_id, read_upload, status_of_refusal,
    too_large_message,
};
use crate::session::Api;

/// One 佐证材料.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: i64,
    pub matter_id: i64,
    /// The 进展反馈 it belongs to, if any.
    pub report_id: Option<i64>,
    /// The cleaned file name (Chinese kept).
    pub filename: String,
    /// The type decided from the content at upload.
    pub media_type: String,
    /// 中文类型名.
    pub kind_label: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: i64,
    /// Unix milliseconds.
    pub uploaded_at: i64,
    /// Set when withdrawn (unix milliseconds).
    pub removed_at: Option<i64>,
    pub removed_by: Option<i64>,
    pub removed_reason: String,
    /// Images and PDF may be previewed.
    pub previewable: bool,
    /// The caller may download it.
    pub downloadable: bool,
    /// The caller may withdraw it now.
    pub removable: bool,
}

impl From<AttachmentInfo> for AttachmentOut {
    fn from(a: AttachmentInfo) -> Self {
        let r = a.row;
        AttachmentOut {
            id: r.id,
            matter_id: r.matter_id,
            report_id: r.report_id,
            filename: r.filename,
            media_type: r.media_type,
            kind_label: a.kind_label.to_owned(),
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            uploaded_by: r.uploaded_by,
            uploaded_at: r.uploaded_at,
            removed_at: r.removed_at,
            removed_by: r.removed_by,
            removed_reason: r.removed_reason,
            previewable: a.previewable,
            downloadable: a.downloadable,
            removable: a.removable,
        }
    }
}

/// A matter's 佐证材料 and what the caller may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentListOut {
    pub items: Vec<AttachmentOut>,
    /// The caller may upload to this matter now.
    pub can_upload: bool,
    /// Largest file accepted, in bytes.
    pub max_bytes: i64,
}

/// The upload form: the file, and optionally the 进展反馈 it belongs to.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the multipart body for the OpenAPI document only
pub struct AttachmentUpload {
    /// The file. Its type is decided from the content: PDF, PNG/JPEG/GIF/WebP, DOCX/XLSX/PPTX,
    /// DOC/XLS/PPT, OFD, UTF-8 text or CSV; the extension of its name must agree.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Id of a 进展反馈 of the same matter.
    pub report_id: Option<i64>,
}

/// The bytes of a file.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // describes the download body for the OpenAPI document only
pub struct FileBytes(Vec<u8>);

/// Why an attachment is withdrawn.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RemoveParams {
    /// 撤回理由 (optional).
    #[param(max_length = 2000)]
    reason: Option<String>,
}

/// A refusal as JSON; a policy refusal or a missing object is audited as `denied` first (ids
/// probed through the API leave the same trail as through the pages).
async fn refused(st: &AppState, who: &taizhang_app::Caller, what: &str, e: &AppError) -> Response {
    let as_denial = match e {
        AppError::NotFound(_) => &AppError::OutOfScope,
        other => other,
    };
    crate::error::audit_denial(st, who, what, as_denial).await;
    let mut r = error_response(e);
    *r.status_mut() = status_of_refusal(e);
    r
}

/// List a matter's 佐证材料 (withdrawn ones included, flagged).
#[utoipa::path(get, path = "/api/v1/matters/{id}/attachments", tag = "attachments",
    params(("id" = i64, Path, description = "Matter id")),
    responses((status = 200, body = AttachmentListOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, Api(who): Api, PathId(id): PathId) -> Response {
    match att::list_attachments(&st.app, &who, id).await {
        Ok(l) => json_ok(&AttachmentListOut {
            can_upload: l.can_upload,
            max_bytes: i64::try_from(l.max_bytes).unwrap_or(i64::MAX),
            items: l.items.into_iter().map(AttachmentOut::from).collect(),
        }),
        Err(e) => refused(&st, &who, &format!("/api/v1/matters/{id}/attachments"), &e).await,
    }
}

/// Upload a 佐证材料 (multipart/form-data: `file`, optional `report_id`). Oversize files are
/// refused with 413 `file_too_large` (field `file`; a declared `Content-Length` over the limit
/// before the body is read); a type not allowed or a name contradicting the content with 422
/// and the rule's code.
#[utoipa::path(post, path = "/api/v1/matters/{id}/attachments", tag = "attachments",
    params(("id" = i64, Path, description = "Matter id")),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = Created), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    req: Request,
) -> Response {
    let limit = match att::max_bytes(&st.app).await {
        Ok(l) => l,
        Err(e) => return error_response(&e),
    };
    let too_large = || {
        bad(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            Some("file"),
            &too_large_message(limit),
        )
    };
    let mut mp = match open_upload(&st, req, limit).await {
        Ok(mp) => mp,
        Err(UploadError::TooLarge) => return too_large(),
        Err(UploadError::Malformed) => {
            return bad(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
                "请求体须为 multipart/form-data（字段 file，可选 report_id）",
            );
        }
    };
    let parts = match read_upload(&mut mp, limit).await {
        Ok(p) => p,
        Err(UploadError::TooLarge) => return too_large(),
        Err(UploadError::Malformed) => {
            return bad(
                StatusCode::BAD_REQUEST,
                "bad_multipart",
                None,
                "multipart 请求体不完整或格式错误",
            );
        }
    };
    let Some((name, bytes)) = parts.file else {
        return bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file_required",
            Some("file"),
            "缺少文件字段 file",
        );
    };
    let report_id = match parse_report_id(parts.report_id.as_deref()) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    match att::upload_attachment(&st.app, &who, id, report_id, &name, &bytes).await {
        Ok(aid) => (StatusCode::CREATED, axum::Json(Created { id: aid })).into_response(),
        Err(e) => refused(&st, &who, &format!("/api/v1/matters/{id}/attachments"), &e).await,
    }
}

/// Download a 佐证材料: the type sniffed at upload, `X-Content-Type-Options: nosniff`,
/// `Content-Disposition: attachment` with the name in `filename*` (UTF-8), and a sandboxing CSP.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments",
    params(("id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = FileBytes),
        (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download(State(st): State<AppState>, Api(who): Api, PathId(id): PathId) -> Response {
    match att::get_attachment(&st.app, &who, id).await {
        Ok(d) => file_response(d, false),
        Err(e) => refused(&st, &who, &format!("/api/v1/attachments/{id}"), &e).await,
    }
}

/// Withdraw a 佐证材料 (its uploader or 督查室, while the matter may change). The record stays
/// in the trail.
#[utoipa::path(delete, path = "/api/v1/attachments/{id}", tag = "attachments",
    params(("id" = i64, Path, description = "Attachment id"), RemoveParams),
    responses((status = 204, description = "Withdrawn"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    ApiQuery(p): ApiQuery<RemoveParams>,
) -> Response {
    let reason = p.reason.unwrap_or_default();
    match att::remove_attachment(&st.app, &who, id, &reason).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(&st, &who, &format!("/api/v1/attachments/{id}"), &e).await,
    }
}
