//! 导入 / 导出 / 报告下载: the ledger upload (multipart, size-limited) → recognized columns the
//! user may remap → row-by-row dry run → all-or-nothing apply; the ledger export with the
//! ledger page's query string; and the cadence reports as .docx / .xlsx attachments.
//!
//! Between steps the uploaded file waits in a per-user temporary file named by a random token
//! (cleaned after two hours), so the browser never re-sends it.

use std::path::PathBuf;
use std::time::Duration;

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use taizhang_app::AppError;
use taizhang_app::identity::SessionInfo;
use taizhang_app::office_io::{self, ColumnMapping, ExportFormat, ImportOptions, ReportFormat};

use crate::AppState;
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::ledger_pages::LedgerParams;
use crate::session::{Web, csrf_ok};

/// Largest upload accepted (the route's body limit is set a little above it).
pub const MAX_UPLOAD: usize = 20 << 20;

/// Fields a column can feed, in the order the mapping step offers them.
const FIELDS: &[(&str, &str)] = &[
    ("seq", "序号"),
    ("number", "编号"),
    ("title", "事项名称"),
    ("requirements", "具体要求"),
    ("source", "任务来源"),
    ("lead_leader", "牵头领导"),
    ("lead_unit", "牵头单位"),
    ("assisting_units", "配合单位"),
    ("deadline", "完成时限"),
    ("feedback_cycle", "反馈周期"),
    ("milestone_list", "细化时间节点"),
    ("milestone_title", "节点名称"),
    ("milestone_date", "节点时间"),
    ("progress", "进展情况"),
    ("problems", "存在问题"),
    ("next_steps", "下步打算"),
    ("status", "完成情况"),
    ("remarks", "备注"),
];

/// A file waiting between the steps.
#[derive(serde::Serialize, Deserialize)]
struct Stash {
    file_name: String,
    sheet: Option<String>,
    year: Option<i16>,
}

fn stash_dir() -> PathBuf {
    std::env::temp_dir().join("taizhang-import")
}

fn stash_path(s: &SessionInfo, token: &str, ext: &str) -> Option<PathBuf> {
    let ok = token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let who = s.caller.person_id?;
    ok.then(|| stash_dir().join(format!("{who}-{token}.{ext}")))
}

fn clean_old_stashes() {
    let Ok(dir) = std::fs::read_dir(stash_dir()) else {
        return;
    };
    for e in dir.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(2 * 3600));
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn load_stash(s: &SessionInfo, token: &str) -> Result<(Vec<u8>, Stash), AppError> {
    let gone = || AppError::NotFound("上传的文件（已过期，请重新上传）".into());
    let (Some(bin), Some(meta)) = (stash_path(s, token, "bin"), stash_path(s, token, "json"))
    else {
        return Err(gone());
    };
    let bytes = std::fs::read(bin).map_err(|_| gone())?;
    let meta = std::fs::read(meta).map_err(|_| gone())?;
    let stash = serde_json::from_slice(&meta).map_err(|_| gone())?;
    Ok((bytes, stash))
}

fn options(st: &Stash) -> ImportOptions {
    ImportOptions {
        sheet: st.sheet.clone(),
        year: st.year,
        ..ImportOptions::default()
    }
}

/// GET /import — the upload form.
pub async fn import_page(State(st): State<AppState>, Web(s): Web) -> Response {
    upload_form(&st, &s, None)
}

fn upload_form(st: &AppState, s: &SessionInfo, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    st.templates.render_status(
        status,
        "office/import.html",
        json!({"page": PageCtx::new(s, "/import"), "error": error, "max_mb": MAX_UPLOAD >> 20}),
    )
}

/// POST /import — receive the file, keep it, and show the first dry run.
pub async fn import_upload(State(st): State<AppState>, Web(s): Web, mut mp: Multipart) -> Response {
    let (mut csrf, mut sheet, mut year, mut file) = (String::new(), None, None, None);
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                return upload_form(
                    &st,
                    &s,
                    Some(format!("上传失败：文件不能超过 {} MB", MAX_UPLOAD >> 20)),
                );
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let Ok(data) = field.bytes().await else {
            return upload_form(
                &st,
                &s,
                Some(format!("上传失败：文件不能超过 {} MB", MAX_UPLOAD >> 20)),
            );
        };
        let text = || String::from_utf8_lossy(&data).trim().to_owned();
        match name.as_str() {
            "csrf" => csrf = text(),
            "sheet" => sheet = Some(text()).filter(|t| !t.is_empty()),
            "year" => year = text().parse().ok(),
            "file" => file = Some((file_name.unwrap_or_default(), data)),
            _ => {}
        }
    }
    if !csrf_ok(&s, &csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let Some((file_name, data)) = file.filter(|(_, d)| !d.is_empty()) else {
        return upload_form(
            &st,
            &s,
            Some("请选择要导入的台账文件（.xlsx、.xls 或 .csv）".into()),
        );
    };
    if data.len() > MAX_UPLOAD {
        return upload_form(
            &st,
            &s,
            Some(format!("文件不能超过 {} MB", MAX_UPLOAD >> 20)),
        );
    }
    let file_name: String = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .take(120)
        .collect();
    let stash = Stash {
        file_name,
        sheet,
        year,
    };
    let token = hex::encode(rand::random::<[u8; 16]>());
    clean_old_stashes();
    let saved = std::fs::create_dir_all(stash_dir()).is_ok()
        && stash_path(&s, &token, "bin").is_some_and(|p| std::fs::write(p, &data).is_ok())
        && stash_path(&s, &token, "json").is_some_and(|p| {
            serde_json::to_vec(&stash).is_ok_and(|j| std::fs::write(p, j).is_ok())
        });
    if !saved {
        return page_error(&st, &AppError::Internal("cannot keep the upload".into()));
    }
    run_import(&st, &s, &token, &data, &stash, None, true).await
}

/// The user's corrected mappings from the mapping form (`m{sheet}_{column}` = field code).
fn mappings_from(form: &[(String, String)], detected: Vec<ColumnMapping>) -> Vec<ColumnMapping> {
    detected
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            for c in &mut m.columns {
                let key = format!("m{i}_{}", c.index);
                if let Some((_, v)) = form.iter().find(|(k, _)| *k == key) {
                    c.field = serde_json::from_value(json!(v)).ok();
                }
            }
            m
        })
        .collect()
}

async fn step(
    st: AppState,
    s: SessionInfo,
    token: String,
    form: Vec<(String, String)>,
    dry_run: bool,
) -> Response {
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if !csrf_ok(&s, csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let (bytes, stash) = match load_stash(&s, &token) {
        Ok(v) => v,
        Err(e) => return page_error(&st, &e),
    };
    let detected = match office_io::detect_mappings(&bytes, &stash.file_name, &options(&stash)) {
        Ok(m) => m,
        Err(e) => return upload_form(&st, &s, Some(e.to_string())),
    };
    let mapping = mappings_from(&form, detected);
    run_import(&st, &s, &token, &bytes, &stash, Some(mapping), dry_run).await
}

/// POST /import/{token}/check — dry run again with the corrected columns.
pub async fn import_check(
    State(st): State<AppState>,
    Web(s): Web,
    Path(token): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    step(st, s, token, form, true).await
}

/// POST /import/{token}/apply — apply all-or-nothing.
pub async fn import_apply(
    State(st): State<AppState>,
    Web(s): Web,
    Path(token): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    step(st, s, token, form, false).await
}

async fn run_import(
    st: &AppState,
    s: &SessionInfo,
    token: &str,
    bytes: &[u8],
    stash: &Stash,
    mapping: Option<Vec<ColumnMapping>>,
    dry_run: bool,
) -> Response {
    let r = office_io::import_ledger(
        &st.app,
        &s.caller,
        bytes,
        &stash.file_name,
        &options(stash),
        mapping,
        dry_run,
    )
    .await;
    let report = match r {
        Ok(r) => r,
        Err(e @ AppError::Invalid { .. }) => return upload_form(st, s, Some(e.to_string())),
        Err(e) => return denied_page(st, &s.caller, "/import", &e).await,
    };
    if report.applied {
        for ext in ["bin", "json"] {
            if let Some(p) = stash_path(s, token, ext) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
    let fields: Vec<_> = FIELDS
        .iter()
        .map(|(v, l)| json!({"value": v, "label": l}))
        .collect();
    let status = if !dry_run && !report.applied {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    st.templates.render_status(
        status,
        "office/report.html",
        json!({"page": PageCtx::new(s, "/import"), "r": report, "token": token, "fields": fields}),
    )
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 / 5987).
pub fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            enc.push(char::from(b));
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{enc}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, attachment(name)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// Streams an export's temporary file (removed once the response is done with it).
fn download_file(e: office_io::LedgerExport, content_type: &'static str, name: &str) -> Response {
    let file = tokio::fs::File::from_std(e.file);
    let body =
        axum::body::Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 16));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, attachment(name)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::CONTENT_LENGTH, HeaderValue::from(e.len)),
        ],
        body,
    )
        .into_response()
}

async fn export(st: AppState, s: SessionInfo, p: LedgerParams, format: ExportFormat) -> Response {
    let q = p.to_query();
    match office_io::export_ledger_file(&st.app, &s.caller, &q, format).await {
        Ok(file) => {
            let year = q.year.map(|y| format!("{y}年度")).unwrap_or_default();
            let name = format!("{year}督办事项台账.{}", format.extension());
            download_file(file, format.content_type(), &name)
        }
        Err(e) => denied_page(&st, &s.caller, "/matters/export", &e).await,
    }
}

/// GET /matters/export.xlsx — the ledger as the list shows it (same query string).
pub async fn export_xlsx(
    State(st): State<AppState>,
    Web(s): Web,
    Query(p): Query<LedgerParams>,
) -> Response {
    export(st, s, p, ExportFormat::Xlsx).await
}

/// GET /matters/export.csv
pub async fn export_csv(
    State(st): State<AppState>,
    Web(s): Web,
    Query(p): Query<LedgerParams>,
) -> Response {
    export(st, s, p, ExportFormat::Csv).await
}

/// `?week=2026-W12`, `?month=2026-10`, `?year=2026`.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodParams {
    #[serde(default)]
    week: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    year: String,
}

async fn report(
    st: AppState,
    s: SessionInfo,
    kind: &str,
    p: PeriodParams,
    format: ReportFormat,
) -> Response {
    let (app, who) = (&st.app, &s.caller);
    let (r, key) = match kind {
        "weekly" => (
            office_io::weekly_report_file(app, who, p.week.trim(), format).await,
            p.week.clone(),
        ),
        "monthly" => (
            office_io::monthly_report_file(app, who, p.month.trim(), format).await,
            p.month.clone(),
        ),
        "bulletin" => (
            office_io::bulletin_docx(app, who, p.month.trim()).await,
            p.month.clone(),
        ),
        _ => match p.year.trim().parse::<i64>() {
            Ok(y) => (
                office_io::annual_report_file(app, who, y, format).await,
                p.year.clone(),
            ),
            Err(_) => (
                Err(AppError::invalid("year", "period", "年度格式无效")),
                p.year.clone(),
            ),
        },
    };
    let label = match kind {
        "weekly" => "周小结",
        "monthly" => "月度盘点报告",
        "bulletin" => "通报",
        _ => "年度归零对账",
    };
    match r {
        Ok(bytes) => download(
            bytes,
            format.content_type(),
            &format!("{}{label}.{}", key.trim(), format.extension()),
        ),
        Err(e) => denied_page(&st, who, "/reports", &e).await,
    }
}

macro_rules! report_route {
    ($name:ident, $kind:literal, $fmt:expr) => {
        pub async fn $name(
            State(st): State<AppState>,
            Web(s): Web,
            Query(p): Query<PeriodParams>,
        ) -> Response {
            report(st, s, $kind, p, $fmt).await
        }
    };
}

report_route!(weekly_docx, "weekly", ReportFormat::Docx);
report_route!(weekly_xlsx, "weekly", ReportFormat::Xlsx);
report_route!(monthly_docx, "monthly", ReportFormat::Docx);
report_route!(monthly_xlsx, "monthly", ReportFormat::Xlsx);
report_route!(bulletin_docx, "bulletin", ReportFormat::Docx);
report_route!(annual_docx, "annual", ReportFormat::Docx);
report_route!(annual_xlsx, "annual", ReportFormat::Xlsx);
