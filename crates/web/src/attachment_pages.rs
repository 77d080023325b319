//! 佐证材料 on the matter page: the list (with the 预览 of images and PDF), the upload form
//! (multipart, CSRF token in the body, never more read than the size limit in force), the
//! withdrawal button, and the download itself — always with the type sniffed at upload,
//! `nosniff`, a `Content-Disposition` carrying the Chinese name (RFC 6266 `filename*`) and a
//! CSP that forbids everything (sandboxed) so a file can never run as a page of this site.
//!
//! A file over the limit gets the page (or the API's JSON) saying so, never a bare 413: the
//! routes carry no fixed body cap, the declared length is compared with the limit in force
//! before anything is read, and the refused body is read and thrown away (up to [`DRAIN_MAX`])
//! so the browser, which sends the whole file before it reads an answer, sees the message
//! instead of a reset connection.

use axum::body::{Body, HttpBody};
use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use taizhang_app::ledger::MatterDetail;
use taizhang_app::ledger::attachments::{
    self as att, ALLOWED_ZH, AttachmentList, Download, FileKind, MAX_BYTES_CEILING, human_size,
};
use taizhang_app::{AppError, Caller};

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::ctx::PageCtx;
use crate::error::page_error;
use crate::ledger_names::Names;
use crate::matter_pages::refuse;
use crate::session::{Web, csrf_ok};

/// Room for the multipart framing and the small fields around the file.
pub const MULTIPART_OVERHEAD: usize = 256 << 10;

/// The body limit of the upload routes: just above the largest file the setting may allow.
pub const BODY_LIMIT: usize = MAX_BYTES_CEILING + MULTIPART_OVERHEAD;

/// A refused upload body is read and discarded up to this much; a larger one is answered at
/// once (the connection then closes under the client).
pub const DRAIN_MAX: u64 = 256 << 20;

/// The `accept` list of the file picker (a hint only: the server decides by content).
const ACCEPT: &str =
    ".pdf,.png,.jpg,.jpeg,.gif,.webp,.docx,.xlsx,.pptx,.doc,.xls,.ppt,.wps,.et,.dps,.ofd,.txt,.csv";

/// A download: nothing may load, run or be framed (a sandboxed, opaque document).
const CSP_DOWNLOAD: &str = "default-src 'none'; sandbox; frame-ancestors 'none'";
/// An image opened in the browser: the image itself and the viewer's own styling only.
const CSP_IMAGE: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";
/// A PDF opened in the browser. Chromium refuses to run its PDF viewer in a sandboxed document,
/// so `sandbox` is left out here; the bytes were verified to be a PDF at upload and `nosniff`
/// keeps the browser from reading them as anything else.
const CSP_PDF: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
    object-src 'self'; frame-ancestors 'none'";

/// One file field and the small fields of an upload form.
#[derive(Default)]
pub struct UploadParts {
    pub csrf: String,
    pub report_id: Option<String>,
    pub file: Option<(String, Vec<u8>)>,
}

/// Why an upload body could not be read.
pub enum UploadError {
    /// Larger than the route's limit (or than the declared `Content-Length` allows).
    TooLarge,
    /// Not a multipart body, or a broken one.
    Malformed,
}

/// Open an upload body: [`UploadError::TooLarge`] when its declared length is already over
/// `limit` (the body is drained first, see [`drain`]), else a multipart reader.
pub async fn open_upload(
    st: &AppState,
    req: Request,
    limit: usize,
) -> Result<Multipart, UploadError> {
    if declared_too_large(req.headers(), limit) {
        drain(req).await;
        return Err(UploadError::TooLarge);
    }
    Multipart::from_request(req, st)
        .await
        .map_err(|_| UploadError::Malformed)
}

/// Read and discard a refused body, so that a browser still sending it reads the answer. Not
/// for a client that asked `Expect: 100-continue` (it has not sent the body and will not), nor
/// beyond [`DRAIN_MAX`]; the route's transfer timeout bounds the time.
async fn drain(req: Request) {
    let h = req.headers();
    let declared = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if h.contains_key(header::EXPECT) || declared.is_none_or(|n| n > DRAIN_MAX) {
        return;
    }
    let mut body: Body = req.into_body();
    let mut seen = 0u64;
    while seen <= DRAIN_MAX {
        match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
            _ => break,
        }
    }
}

/// Read an upload form, holding at most `limit` bytes of file and [`MULTIPART_OVERHEAD`] of
/// the other fields: anything more is [`UploadError::TooLarge`], once the rest of the body has
/// been read and dropped (within the route's body limit), so the browser sees the answer.
pub async fn read_upload(mp: &mut Multipart, limit: usize) -> Result<UploadParts, UploadError> {
    let mut out = UploadParts::default();
    let (mut small, mut too_large) = (0usize, false);
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(classify(e.status())),
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let cap = if name == "file" {
            limit
        } else {
            MULTIPART_OVERHEAD.saturating_sub(small)
        };
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| classify(e.status()))? {
            if too_large || data.len() + chunk.len() > cap {
                too_large = true;
                data = Vec::new();
            } else {
                data.extend_from_slice(&chunk);
            }
        }
        if too_large {
            continue;
        }
        let text = || String::from_utf8_lossy(&data).trim().to_owned();
        match name.as_str() {
            "file" => out.file = Some((file_name.unwrap_or_default(), data)),
            other => {
                small += data.len();
                match other {
                    "csrf" => out.csrf = text(),
                    "report_id" => out.report_id = Some(text()).filter(|t| !t.is_empty()),
                    _ => {}
                }
            }
        }
    }
    if too_large {
        return Err(UploadError::TooLarge);
    }
    Ok(out)
}

fn classify(status: StatusCode) -> UploadError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        UploadError::TooLarge
    } else {
        UploadError::Malformed
    }
}

/// Whether the declared `Content-Length` is already over the limit in force (refused before a
/// byte of the body is read).
pub fn declared_too_large(headers: &HeaderMap, limit: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|n| n > limit + MULTIPART_OVERHEAD)
}

/// The message of a refused oversize upload: `文件过大，单个附件不超过 20 MB`.
pub fn too_large_message(limit: usize) -> String {
    let label = if limit.is_multiple_of(1 << 20) {
        format!("{} MB", limit >> 20)
    } else if limit.is_multiple_of(1 << 10) {
        format!("{} KB", limit >> 10)
    } else {
        human_size(limit as i64)
    };
    format!("文件过大，单个附件不超过 {label}")
}

/// `report_id` as typed: empty is none; anything but a positive integer is refused.
pub fn parse_report_id(raw: Option<&str>) -> Result<Option<i64>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(AppError::invalid(
                "report_id",
                "report_id",
                "关联的进展反馈编号无效",
            )),
        },
    }
}

/// The status of a refused upload: 413 for size, 422 for the other rules.
pub fn status_of_refusal(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid { code, .. } if code == "file_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        other => crate::error::status_of(other),
    }
}

/// `Content-Disposition` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 8187).
pub fn content_disposition(disposition: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | ';' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The file response: the sniffed type, `nosniff`, attachment (or inline for a preview of an
/// image or PDF), and a CSP that lets nothing run.
pub fn file_response(d: Download, inline: bool) -> Response {
    let inline = inline && d.previewable();
    let content_type = match d.kind {
        Some(k @ (FileKind::Text | FileKind::Csv)) => format!("{}; charset=utf-8", k.media_type()),
        Some(k) => k.media_type().to_owned(),
        None => "application/octet-stream".to_owned(),
    };
    let csp = match (inline, d.kind) {
        (true, Some(FileKind::Pdf)) => CSP_PDF,
        (true, _) => CSP_IMAGE,
        (false, _) => CSP_DOWNLOAD,
    };
    let disposition = content_disposition(
        if inline { "inline" } else { "attachment" },
        &d.row.filename,
    );
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
    let mut r = (StatusCode::OK, d.bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, hv(&content_type));
    h.insert(header::CONTENT_DISPOSITION, hv(&disposition));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, hv(csp));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", d.row.sha256)) {
        h.insert(header::ETAG, etag);
    }
    r
}

/// The 佐证材料 section of the matter page (null when it cannot be read: the page still shows).
pub async fn section(st: &AppState, who: &Caller, d: &MatterDetail, n: &Names) -> Value {
    let list: AttachmentList = match att::list_attachments(&st.app, who, d.matter.row.id).await {
        Ok(l) => l,
        Err(e) => {
            crate::error::log_cause(&e);
            return Value::Null;
        }
    };
    let report_label = |rid: Option<i64>| {
        rid.and_then(|id| d.reports.iter().find(|r| r.id == id))
            .map(|r| format!("{} {}的进展", r.submitted_on, n.person(Some(r.reporter_id))))
    };
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|a| {
            let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
            v["uploader"] = json!(n.person(Some(a.row.uploaded_by)));
            v["remover"] = json!(n.person(a.row.removed_by));
            v["report_label"] = json!(report_label(a.row.report_id));
            v
        })
        .collect();
    let active = list
        .items
        .iter()
        .filter(|a| a.row.removed_at.is_none())
        .count();
    let reports: Vec<Value> = d
        .reports
        .iter()
        .rev()
        .map(|r| {
            json!({"id": r.id, "label": format!("{} {}：{}", r.submitted_on,
                n.person(Some(r.reporter_id)), r.body.chars().take(24).collect::<String>())})
        })
        .collect();
    json!({
        "items": items,
        "active": active,
        "can_upload": list.can_upload,
        "max_label": human_size(list.max_bytes as i64),
        "max_bytes": list.max_bytes,
        "too_large": too_large_message(list.max_bytes),
        "allowed": ALLOWED_ZH,
        "accept": ACCEPT,
        "reports": reports,
    })
}

/// A refused upload or withdrawal, with a way back to the matter.
fn refused_page(
    st: &AppState,
    s: &taizhang_app::identity::SessionInfo,
    matter_id: Option<i64>,
    status: StatusCode,
    message: &str,
) -> Response {
    st.templates.render_status(
        status,
        "matters/attachment_error.html",
        json!({"page": PageCtx::new(s, "/matters"), "matter_id": matter_id, "message": message,
               "status": status.as_u16()}),
    )
}

/// `POST /matters/{id}/attachments` — the upload form of the matter page.
pub async fn upload(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let limit = match att::max_bytes(&st.app).await {
        Ok(l) => l,
        Err(e) => return page_error(&st, &e),
    };
    let too_large = |st: &AppState| {
        refused_page(
            st,
            &s,
            Some(id),
            StatusCode::PAYLOAD_TOO_LARGE,
            &too_large_message(limit),
        )
    };
    let mut mp = match open_upload(&st, req, limit).await {
        Ok(mp) => mp,
        Err(UploadError::TooLarge) => return too_large(&st),
        Err(UploadError::Malformed) => {
            return refused_page(
                &st,
                &s,
                Some(id),
                StatusCode::BAD_REQUEST,
                "上传须使用 multipart/form-data 表单",
            );
        }
    };
    let parts = match read_upload(&mut mp, limit).await {
        Ok(p) => p,
        Err(UploadError::TooLarge) => return too_large(&st),
        Err(UploadError::Malformed) => {
            return refused_page(
                &st,
                &s,
                Some(id),
                StatusCode::BAD_REQUEST,
                "上传内容不完整或格式错误，请重新选择文件上传",
            );
        }
    };
    if !csrf_ok(&s, &parts.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let Some((name, bytes)) = parts.file else {
        return refused_page(
            &st,
            &s,
            Some(id),
            StatusCode::UNPROCESSABLE_ENTITY,
            "请选择要上传的文件",
        );
    };
    let report_id = match parse_report_id(parts.report_id.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            return refused_page(
                &st,
                &s,
                Some(id),
                StatusCode::UNPROCESSABLE_ENTITY,
                &e.to_string(),
            );
        }
    };
    match att::upload_attachment(&st.app, &s.caller, id, report_id, &name, &bytes).await {
        Ok(_) => Redirect::to(&format!("/matters/{id}#attachments")).into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            refused_page(&st, &s, Some(id), status_of_refusal(&e), &e.to_string())
        }
        Err(e) => refuse(&st, &s.caller, &format!("/matters/{id}/attachments"), &e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DownloadParams {
    /// `1`: open an image or PDF in the browser instead of downloading it.
    #[serde(default)]
    inline: Option<String>,
}

/// `GET /attachments/{id}` — download (or, with `?inline=1`, preview an image or PDF).
pub async fn download(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Query(q): Query<DownloadParams>,
) -> Response {
    let inline = matches!(q.inline.as_deref(), Some("1" | "true"));
    match att::get_attachment(&st.app, &s.caller, id).await {
        Ok(d) => file_response(d, inline),
        Err(e) => refuse(&st, &s.caller, &format!("/attachments/{id}"), &e).await,
    }
}

/// `POST /attachments/{id}/remove` — withdraw (the uploader or 督查室).
pub async fn remove(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    form: RawForm,
) -> Response {
    let pairs = form.pairs();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    if !csrf_ok(&s, get("csrf")) {
        return page_error(&st, &AppError::Forbidden);
    }
    match att::remove_attachment(&st.app, &s.caller, id, get("reason")).await {
        Ok(matter_id) => Redirect::to(&format!("/matters/{matter_id}#attachments")).into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            refused_page(&st, &s, None, crate::error::status_of(&e), &e.to_string())
        }
        Err(e) => refuse(&st, &s.caller, &format!("/attachments/{id}/remove"), &e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_name_is_carried_exactly_and_the_fallback_is_plain_ascii() {
        let h = content_disposition("attachment", "整改报告 v2 (终稿).pdf");
        assert_eq!(
            h,
            "attachment; filename=\"____ v2 (__).pdf\"; filename*=UTF-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A%20v2%20%28%E7%BB%88%E7%A8%BF%29.pdf"
        );
        let h = content_disposition("inline", "a\"b;c%.txt");
        assert!(h.starts_with("inline; filename=\"a_b_c_.txt\""), "{h}");
        assert!(HeaderValue::from_str(&h).is_ok());
    }
}
