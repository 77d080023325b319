//! 佐证材料 (attachments): evidence files on a matter, optionally tied to one 进展反馈.
//!
//! Rules, each refused with an [`AppError::Invalid`] whose code names it:
//! - `file_empty`, `file_too_large`: a file has bytes and at most [`max_bytes`] of them
//!   (default [`DEFAULT_MAX_BYTES`], the `attachments.max_bytes` setting, never above
//!   [`MAX_BYTES_CEILING`]).
//! - The type is decided by the **content**, never by the name or the browser's claim:
//!   PDF, PNG, JPEG, GIF, WebP, DOCX/XLSX/PPTX (a zip whose central directory holds
//!   `[Content_Types].xml` and the part of its kind), DOC/XLS/PPT (an OLE compound file with the
//!   class id of its kind), OFD (a zip with `OFD.xml`) and plain UTF-8 text/CSV without NUL.
//!   `executable`, `script_carrier` (HTML, SVG, XML), `archive` (any archive but OOXML/OFD),
//!   `macro` (OOXML with a VBA project), `file_type` (anything else).
//! - `extension_mismatch`: the extension of the name must be one of the sniffed type's
//!   (`报告.pdf` that is really a PNG or an EXE is refused); a name without one gets it.
//! - The name is cleaned ([`sanitize_filename`]): no path, no control or bidi characters, no
//!   Windows-reserved names, at most [`FILENAME_MAX_CHARS`] characters; Chinese is kept.
//!
//! Access: uploading needs the right to report progress on the matter or to manage it
//! (督查室); reading needs the right to view it (纪检监察 included; out of scope reads as not
//! found); withdrawing is for the uploader or 督查室. Nothing changes on a matter that is
//! 销号/中止/结转 or whose year is closed. Every upload and withdrawal commits with its timeline
//! row and its audit record; the bytes are stored once per SHA-256 and kept after a withdrawal.

use std::io::Cursor;

use serde::Serialize;
use sha2::{Digest, Sha256};
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::policy::{Action, Label, Role, Target};
use taizhang_store::Conn;
use taizhang_store::attachments::{self as store_att, AttachmentRow};
use taizhang_store::ledger as store_ledger;
use taizhang_store::matters::{self as store_matters, MatterRow};
use unicode_normalization::UnicodeNormalization;

use super::{bounded, record_event, status_of, target_of};
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// Largest file accepted unless the setting says otherwise.
pub const DEFAULT_MAX_BYTES: usize = 20 << 20;
/// The setting may not go above this (the upload route's body limit sits just above it).
pub const MAX_BYTES_CEILING: usize = 24 << 20;
/// The setting may not go below this.
pub const MAX_BYTES_FLOOR: usize = 1 << 10;
/// The settings key holding the limit in bytes.
pub const MAX_BYTES_SETTING: &str = "attachments.max_bytes";
/// Longest file name kept, in characters (extension included).
pub const FILENAME_MAX_CHARS: usize = 100;

/// A type on the allow-list, decided from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Webp,
    Docx,
    Xlsx,
    Pptx,
    Doc,
    Xls,
    Ppt,
    Ofd,
    Text,
    Csv,
}

impl FileKind {
    pub const ALL: [FileKind; 14] = [
        FileKind::Pdf,
        FileKind::Png,
        FileKind::Jpeg,
        FileKind::Gif,
        FileKind::Webp,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Pptx,
        FileKind::Doc,
        FileKind::Xls,
        FileKind::Ppt,
        FileKind::Ofd,
        FileKind::Text,
        FileKind::Csv,
    ];

    /// The media type stored and served (text types get `; charset=utf-8` when served).
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Doc => "application/msword",
            FileKind::Xls => "application/vnd.ms-excel",
            FileKind::Ppt => "application/vnd.ms-powerpoint",
            FileKind::Ofd => "application/ofd",
            FileKind::Text => "text/plain",
            FileKind::Csv => "text/csv",
        }
    }

    /// The kind of a stored media type.
    pub fn of_media_type(mt: &str) -> Option<FileKind> {
        let base = mt.split(';').next().unwrap_or("").trim();
        FileKind::ALL.into_iter().find(|k| k.media_type() == base)
    }

    /// 中文名称.
    pub fn label_zh(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF 文档",
            FileKind::Png => "PNG 图片",
            FileKind::Jpeg => "JPEG 图片",
            FileKind::Gif => "GIF 图片",
            FileKind::Webp => "WebP 图片",
            FileKind::Docx => "Word 文档",
            FileKind::Xlsx => "Excel 表格",
            FileKind::Pptx => "PowerPoint 演示文稿",
            FileKind::Doc => "Word 97-2003 文档",
            FileKind::Xls => "Excel 97-2003 表格",
            FileKind::Ppt => "PowerPoint 97-2003 演示文稿",
            FileKind::Ofd => "OFD 版式文档",
            FileKind::Text => "文本文件",
            FileKind::Csv => "CSV 表格",
        }
    }

    /// Extensions a name may carry for this kind (lower case, the first is the canonical one).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Png => &["png"],
            FileKind::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            FileKind::Gif => &["gif"],
            FileKind::Webp => &["webp"],
            FileKind::Docx => &["docx"],
            FileKind::Xlsx => &["xlsx"],
            FileKind::Pptx => &["pptx"],
            FileKind::Doc => &["doc", "wps"],
            FileKind::Xls => &["xls", "et"],
            FileKind::Ppt => &["ppt", "dps"],
            FileKind::Ofd => &["ofd"],
            FileKind::Text => &["txt", "csv"],
            FileKind::Csv => &["csv", "txt"],
        }
    }

    /// Images and PDF may be previewed in the browser; everything else is only downloaded.
    pub fn previewable(self) -> bool {
        matches!(
            self,
            FileKind::Pdf | FileKind::Png | FileKind::Jpeg | FileKind::Gif | FileKind::Webp
        )
    }

    pub fn is_image(self) -> bool {
        matches!(
            self,
            FileKind::Png | FileKind::Jpeg | FileKind::Gif | FileKind::Webp
        )
    }
}

/// What the allow-list says, in one sentence (error messages and the upload form).
pub const ALLOWED_ZH: &str = "PDF、图片（PNG/JPEG/GIF/WebP）、Word/Excel/PowerPoint（含 97-2003 格式）、OFD、UTF-8 文本或 CSV";

fn refuse(code: &str, message: impl Into<String>) -> AppError {
    AppError::invalid("file", code, message)
}

/// Decide the type of `bytes` from their content alone.
pub fn sniff(bytes: &[u8]) -> AppResult<FileKind> {
    if bytes.is_empty() {
        return Err(refuse(
            "file_empty",
            "文件为空（0 字节），请选择有内容的文件",
        ));
    }
    if let Some(what) = executable(bytes) {
        return Err(refuse(
            "executable",
            format!("不允许上传可执行文件或脚本（检测到{what}）"),
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if infer::image::is_png(bytes) {
        return Ok(FileKind::Png);
    }
    if infer::image::is_jpeg(bytes) {
        return Ok(FileKind::Jpeg);
    }
    if infer::image::is_gif(bytes) {
        return Ok(FileKind::Gif);
    }
    if infer::image::is_webp(bytes) {
        return Ok(FileKind::Webp);
    }
    if let Some(what) = script_carrier(bytes) {
        return Err(refuse(
            "script_carrier",
            format!("不允许上传{what}：此类文件可携带脚本，请转为 PDF 后上传"),
        ));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return zip_kind(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return ole_kind(bytes);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Err(refuse(
            "file_type",
            "不支持 RTF 格式，请另存为 .docx 或 PDF 后上传",
        ));
    }
    if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return Ok(FileKind::Text);
    }
    if let Some(what) = archive(bytes) {
        return Err(refuse(
            "archive",
            format!("不允许上传压缩包或安装包（检测到 {what}），请解压后逐个上传文件"),
        ));
    }
    let detail = match infer::get(bytes) {
        Some(t) => format!("检测为 {}", t.mime_type()),
        None => "无法识别的二进制内容".to_owned(),
    };
    Err(refuse(
        "file_type",
        format!("不支持的文件类型（{detail}）；允许的类型：{ALLOWED_ZH}"),
    ))
}

/// A program or script by its magic number, named in Chinese.
fn executable(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"MZ") {
        // A PE file: "PE\0\0" where the DOS header's e_lfanew points; a bare "MZ" that is
        // not text is refused too (DOS programs, damaged PE files).
        let pe = b
            .get(0x3C..0x40)
            .and_then(|x| <[u8; 4]>::try_from(x).ok())
            .map(|x| u32::from_le_bytes(x) as usize)
            .and_then(|off| b.get(off..off.checked_add(4)?))
            .is_some_and(|sig| sig == b"PE\0\0");
        if pe || std::str::from_utf8(b).is_err() {
            return Some("Windows 可执行程序（EXE/DLL）");
        }
    }
    if infer::app::is_elf(b) || b.starts_with(b"\x7fELF") {
        return Some("Linux 可执行程序（ELF）");
    }
    if infer::app::is_mach(b) {
        return Some("macOS 可执行程序（Mach-O）");
    }
    if infer::app::is_java(b) {
        return Some("Java 字节码");
    }
    if infer::app::is_wasm(b) {
        return Some("WebAssembly 程序");
    }
    if infer::app::is_dex(b) || infer::app::is_dey(b) {
        return Some("Android 程序");
    }
    if b.starts_with(b"#!") {
        return Some("脚本（#!）");
    }
    if b.starts_with(b"L\0\0\0\x01\x14\x02\0") {
        return Some("Windows 快捷方式（LNK）");
    }
    None
}

/// HTML, SVG or XML (which browsers may run script in), by what the text starts with.
fn script_carrier(b: &[u8]) -> Option<&'static str> {
    let head = &b[..b.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_lowercase();
    let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n', '\x0c']);
    if !t.starts_with('<') {
        return None;
    }
    if text.contains("<svg") {
        Some("SVG 图像")
    } else if infer::text::is_html(head) || text.contains("<html") || text.contains("<script") {
        Some("HTML 网页")
    } else if infer::text::is_xml(head) || t.starts_with("<!") || t.starts_with("<?") {
        Some("XML 文件")
    } else {
        None
    }
}

/// An OLE compound file: Word/Excel/PowerPoint 97-2003 by the root class id; anything else
/// (Windows installers, unknown containers) is refused.
fn ole_kind(bytes: &[u8]) -> AppResult<FileKind> {
    if infer::doc::is_doc(bytes) {
        Ok(FileKind::Doc)
    } else if infer::doc::is_xls(bytes) {
        Ok(FileKind::Xls)
    } else if infer::doc::is_ppt(bytes) {
        Ok(FileKind::Ppt)
    } else {
        Err(refuse(
            "file_type",
            "无法识别的 Office 97-2003 复合文档（也可能是安装包），请另存为 .docx/.xlsx 或 PDF 后上传",
        ))
    }
}

/// A binary archive format other than zip, by its magic number.
fn archive(b: &[u8]) -> Option<&'static str> {
    use infer::archive as a;
    type Matcher = fn(&[u8]) -> bool;
    let found: &[(Matcher, &'static str)] = &[
        (a::is_gz, "gzip"),
        (a::is_bz2, "bzip2"),
        (a::is_bz3, "bzip3"),
        (a::is_xz, "xz"),
        (a::is_7z, "7z"),
        (a::is_rar, "rar"),
        (a::is_tar, "tar"),
        (a::is_cab, "cab"),
        (a::is_zst, "zstd"),
        (a::is_lz, "lzip"),
        (a::is_lz4, "lz4"),
        (a::is_z, "compress (.Z)"),
        (a::is_deb, "deb"),
        (a::is_rpm, "rpm"),
        (a::is_ar, "ar"),
        (a::is_cpio, "cpio"),
        (a::is_crx, "crx"),
    ];
    found.iter().find(|(is, _)| is(b)).map(|(_, n)| *n)
}

/// A zip: OOXML (by its parts), OFD, or an archive that is refused.
fn zip_kind(bytes: &[u8]) -> AppResult<FileKind> {
    let bad = || {
        refuse(
            "file_type",
            "文件以 ZIP 格式开头，但目录已损坏，无法识别为 Office 或 OFD 文档",
        )
    };
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| bad())?;
    if zip.len() > 10_000 {
        return Err(refuse(
            "archive",
            "文件包含的条目过多（超过 10000 个），不予接收",
        ));
    }
    let names: Vec<String> = zip
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if names.iter().any(|n| n.ends_with("vbaproject.bin")) {
        return Err(refuse(
            "macro",
            "不允许上传含宏（VBA）的 Office 文档，请另存为不含宏的 .docx/.xlsx/.pptx 或 PDF",
        ));
    }
    if has("[content_types].xml") {
        if has("word/document.xml") {
            return Ok(FileKind::Docx);
        }
        if has("xl/workbook.xml") {
            return Ok(FileKind::Xlsx);
        }
        if has("ppt/presentation.xml") {
            return Ok(FileKind::Pptx);
        }
    }
    if has("ofd.xml") {
        return Ok(FileKind::Ofd);
    }
    Err(refuse(
        "archive",
        "不允许上传压缩包（ZIP），请解压后逐个上传文件",
    ))
}

/// The extension of a name: the part after the last dot, when it is 1–8 ASCII letters/digits.
pub fn extension_of(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    let ok = !stem.is_empty()
        && (1..=8).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}

/// Characters that hide or reorder text (bidi overrides, zero-width marks, BOM).
fn invisible(ch: char) -> bool {
    matches!(ch,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{206A}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A display name safe to show and to offer as a download name: the last path component, NFC,
/// without control/bidi/zero-width characters or `<>:"|?*`, without leading dots or trailing
/// dots and spaces, not a Windows device name, at most [`FILENAME_MAX_CHARS`] characters with
/// the extension kept. Chinese and other letters are kept. May return an empty string.
pub fn sanitize_filename(raw: &str) -> String {
    let nfc: String = raw.nfc().collect();
    let last = nfc.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::with_capacity(last.len());
    let mut space = false;
    for ch in last.chars() {
        if (ch.is_control() && !ch.is_whitespace()) || invisible(ch) {
            continue;
        }
        let ch = if matches!(ch, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
            '_'
        } else {
            ch
        };
        if ch.is_whitespace() {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(ch);
            space = false;
        }
    }
    let trimmed = out
        .trim_end_matches(['.', ' '])
        .trim_start_matches(['.', ' '])
        .to_owned();
    let mut name = trimmed;
    let stem_lower = name
        .split('.')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if RESERVED.contains(&stem_lower.as_str()) {
        name = format!("_{name}");
    }
    if name.chars().count() > FILENAME_MAX_CHARS {
        name = match extension_of(&name) {
            Some(ext) => {
                let keep = FILENAME_MAX_CHARS - ext.len() - 1;
                let stem: String = name.chars().take(keep).collect();
                format!("{}.{ext}", stem.trim_end_matches(['.', ' ']))
            }
            None => name.chars().take(FILENAME_MAX_CHARS).collect(),
        };
    }
    name
}

/// Check the name against the sniffed kind, and give the stored name and the final kind (a
/// `.csv` name makes text a CSV). A name without an extension gets the kind's own.
pub fn name_for(raw: &str, kind: FileKind) -> AppResult<(String, FileKind)> {
    let mut name = sanitize_filename(raw);
    let shown = if name.is_empty() {
        "（无文件名）".to_owned()
    } else {
        name.clone()
    };
    let kind = match (kind, extension_of(&name).as_deref()) {
        (FileKind::Text, Some("csv")) => FileKind::Csv,
        (k, _) => k,
    };
    match extension_of(&name) {
        Some(ext) if kind.extensions().contains(&ext.as_str()) => {}
        Some(ext) => {
            return Err(refuse(
                "extension_mismatch",
                format!(
                    "文件「{shown}」的扩展名是 .{ext}，但内容是{}（应为 .{}）；扩展名与内容不符，请核对后再上传",
                    kind.label_zh(),
                    kind.extensions()[0]
                ),
            ));
        }
        None => {
            if name.is_empty() {
                name = "佐证材料".into();
            }
            name = format!("{name}.{}", kind.extensions()[0]);
        }
    }
    Ok((name, kind))
}

/// The size limit in force (the `attachments.max_bytes` setting, else the default).
pub async fn max_bytes(app: &App) -> AppResult<usize> {
    let mut c = app.store.read().await?;
    max_bytes_on(&mut c).await
}

async fn max_bytes_on(c: &mut Conn) -> AppResult<usize> {
    Ok(crate::settings_value(c, MAX_BYTES_SETTING)
        .await?
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(DEFAULT_MAX_BYTES, |n| {
            n.clamp(MAX_BYTES_FLOOR, MAX_BYTES_CEILING)
        }))
}

/// Change the size limit (系统管理员, audited).
pub async fn set_max_bytes(app: &App, who: &Caller, bytes: usize) -> AppResult<()> {
    who.require(Action::ManageSettings, None)?;
    if !(MAX_BYTES_FLOOR..=MAX_BYTES_CEILING).contains(&bytes) {
        return Err(AppError::invalid(
            "max_bytes",
            "out_of_range",
            format!(
                "附件大小上限须在 {} 至 {} 之间",
                human_size(MAX_BYTES_FLOOR as i64),
                human_size(MAX_BYTES_CEILING as i64)
            ),
        ));
    }
    let mut c = app.store.begin().await?;
    let old = max_bytes_on(&mut c).await?;
    taizhang_store::settings::put(
        &mut c,
        MAX_BYTES_SETTING,
        &bytes.to_string(),
        app.clock.now_ms(),
    )
    .await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "settings.attachments",
            "setting",
            MAX_BYTES_SETTING,
            format!("max_bytes {old}→{bytes}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// A size for people: `512 B`, `12.3 KB`, `4.5 MB`.
pub fn human_size(n: i64) -> String {
    let n = n.max(0);
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}

/// One attachment as shown to a caller.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    #[serde(flatten)]
    pub row: AttachmentRow,
    /// 中文类型名.
    pub kind_label: &'static str,
    pub size_label: String,
    /// May be opened in the browser (images, PDF).
    pub previewable: bool,
    pub is_image: bool,
    /// This caller may withdraw it now.
    pub removable: bool,
    /// This caller may download it (withdrawn ones: 督查室 and 纪检监察 only).
    pub downloadable: bool,
}

/// The attachments of a matter, with what this caller may do.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentList {
    pub items: Vec<AttachmentInfo>,
    /// This caller may upload to this matter now.
    pub can_upload: bool,
    pub max_bytes: usize,
}

/// An attachment with its bytes, for a download.
#[derive(Debug, Clone)]
pub struct Download {
    pub row: AttachmentRow,
    pub kind: Option<FileKind>,
    pub bytes: Vec<u8>,
}

impl Download {
    pub fn previewable(&self) -> bool {
        self.kind.is_some_and(FileKind::previewable)
    }
}

fn allowed(who: &Caller, action: Action, t: &Target) -> bool {
    who.decide(action, Some(t)).is_allowed()
}

/// May upload: report progress on it or manage it. Out of view reads as not found.
fn require_upload(who: &Caller, t: &Target) -> AppResult<()> {
    if allowed(who, Action::ReportProgress, t) || allowed(who, Action::EditMatter, t) {
        return Ok(());
    }
    who.require(Action::ViewMatter, Some(t))?;
    Err(AppError::Forbidden)
}

/// A matter that may still change: not 销号/中止/结转, its year not closed.
async fn require_open(c: &mut Conn, m: &MatterRow) -> AppResult<()> {
    if taizhang_store::cadences::year_closed(c, m.year).await? {
        return Err(AppError::rule(
            "year_closed",
            format!("{}年度已归零，事项只读，不能再上传或撤回佐证材料", m.year),
        ));
    }
    let s = status_of(m)?;
    if s.is_terminal() {
        return Err(AppError::rule(
            "matter_closed",
            format!("事项已{}，不能再上传或撤回佐证材料", s.label_zh()),
        ));
    }
    Ok(())
}

fn is_open(m: &MatterRow) -> bool {
    MatterStatus::parse(&m.status).is_some_and(|s| !s.is_terminal())
}

fn may_remove(who: &Caller, t: &Target, a: &AttachmentRow) -> bool {
    a.removed_at.is_none()
        && (allowed(who, Action::EditMatter, t)
            || (who.person_id == Some(a.uploaded_by) && require_upload(who, t).is_ok()))
}

fn may_see_withdrawn(who: &Caller, t: &Target) -> bool {
    who.is_system() || who.has_role(Role::Inspector) || allowed(who, Action::EditMatter, t)
}

/// Load a matter and its policy target, for a read by `who` (out of scope: not found).
async fn viewable(c: &mut Conn, who: &Caller, matter_id: i64) -> AppResult<(MatterRow, Target)> {
    let m = store_matters::get(c, matter_id).await?;
    let t = target_of(c, &m).await?;
    who.require(Action::ViewMatter, Some(&t))?;
    Ok((m, t))
}

/// Upload a file to matter `matter_id` (optionally to one of its 进展反馈). Returns the id.
pub async fn upload_attachment(
    app: &App,
    who: &Caller,
    matter_id: i64,
    report_id: Option<i64>,
    filename: &str,
    bytes: &[u8],
) -> AppResult<i64> {
    let uploader = super::person_of(who)?;
    // Who may, before anything about the file is said.
    {
        let mut c = app.store.read().await?;
        let m = store_matters::get(&mut c, matter_id).await?;
        let t = target_of(&mut c, &m).await?;
        require_upload(who, &t)?;
    }
    let limit = max_bytes(app).await?;
    if bytes.is_empty() {
        return Err(refuse(
            "file_empty",
            "文件为空（0 字节），请选择有内容的文件",
        ));
    }
    if bytes.len() > limit {
        return Err(refuse(
            "file_too_large",
            format!(
                "文件大小 {}，超过上限 {}",
                human_size(bytes.len() as i64),
                human_size(limit as i64)
            ),
        ));
    }
    let kind = sniff(bytes)?;
    let (name, kind) = name_for(filename, kind)?;
    let sha = hex::encode(Sha256::digest(bytes));
    let size = i64::try_from(bytes.len()).map_err(|_| AppError::Internal("size".into()))?;

    let mut c = app.store.begin().await?;
    let m = store_matters::get(&mut c, matter_id).await?;
    let t = target_of(&mut c, &m).await?;
    require_upload(who, &t)?;
    require_open(&mut c, &m).await?;
    if let Some(rid) = report_id {
        let r = store_ledger::get_report(&mut c, rid)
            .await
            .map_err(|_| AppError::NotFound("进展反馈".into()))?;
        if r.matter_id != matter_id {
            // A report of another matter is addressed through this one: answered as missing.
            return Err(AppError::NotFound("进展反馈".into()));
        }
    }
    let now = app.clock.now_ms();
    let fresh = store_att::put_blob(&mut c, &sha, kind.media_type(), bytes, now).await?;
    let id = store_att::insert(
        &mut c,
        &AttachmentRow {
            id: 0,
            matter_id,
            report_id,
            sha256: sha.clone(),
            size_bytes: size,
            media_type: kind.media_type().into(),
            filename: name.clone(),
            uploaded_by: uploader,
            uploaded_at: now,
            removed_at: None,
            removed_by: None,
            removed_reason: String::new(),
        },
    )
    .await?;
    let from = status_of(&m)?;
    record_event(
        app,
        &mut c,
        who,
        matter_id,
        "attachment_upload",
        Some(from),
        Some(from),
        &name,
    )
    .await?;
    let detail = format!(
        "matter={} number={} report={} sha256={sha} size={size} type={} dedup={} name={name}",
        matter_id,
        m.number,
        report_id.map_or("-".into(), |r| r.to_string()),
        kind.media_type(),
        !fresh,
    );
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("attachment.upload", "attachment", id, detail),
    )
    .await?;
    c.commit().await?;
    Ok(id)
}

/// The attachments of a matter the caller may view (withdrawn ones included, flagged).
pub async fn list_attachments(
    app: &App,
    who: &Caller,
    matter_id: i64,
) -> AppResult<AttachmentList> {
    let mut c = app.store.read().await?;
    let (m, t) = viewable(&mut c, who, matter_id).await?;
    let open = is_open(&m) && !taizhang_store::cadences::year_closed(&mut c, m.year).await?;
    let rows = store_att::list_by_matter(&mut c, matter_id).await?;
    let limit = max_bytes_on(&mut c).await?;
    let see_withdrawn = may_see_withdrawn(who, &t);
    let items = rows
        .into_iter()
        .map(|row| info(who, &t, open, see_withdrawn, row))
        .collect();
    Ok(AttachmentList {
        items,
        can_upload: open && require_upload(who, &t).is_ok(),
        max_bytes: limit,
    })
}

/// The attachments of one 进展反馈 (through its matter's access).
pub async fn list_report_attachments(
    app: &App,
    who: &Caller,
    report_id: i64,
) -> AppResult<Vec<AttachmentInfo>> {
    let mut c = app.store.read().await?;
    let r = store_ledger::get_report(&mut c, report_id)
        .await
        .map_err(|_| AppError::NotFound("进展反馈".into()))?;
    let (m, t) = viewable(&mut c, who, r.matter_id).await?;
    let open = is_open(&m) && !taizhang_store::cadences::year_closed(&mut c, m.year).await?;
    let see_withdrawn = may_see_withdrawn(who, &t);
    Ok(store_att::list_by_report(&mut c, report_id)
        .await?
        .into_iter()
        .map(|row| info(who, &t, open, see_withdrawn, row))
        .collect())
}

fn info(
    who: &Caller,
    t: &Target,
    open: bool,
    see_withdrawn: bool,
    row: AttachmentRow,
) -> AttachmentInfo {
    let kind = FileKind::of_media_type(&row.media_type);
    AttachmentInfo {
        kind_label: kind.map_or("其他", FileKind::label_zh),
        size_label: human_size(row.size_bytes),
        previewable: kind.is_some_and(FileKind::previewable),
        is_image: kind.is_some_and(FileKind::is_image),
        removable: open && may_remove(who, t, &row),
        downloadable: row.removed_at.is_none() || see_withdrawn,
        row,
    }
}

/// One attachment with its bytes, for whoever may view its matter. A withdrawn one is served
/// only to 督查室 and 纪检监察 (the trail), and answers as missing to everyone else.
pub async fn get_attachment(app: &App, who: &Caller, id: i64) -> AppResult<Download> {
    let mut c = app.store.read().await?;
    let row = store_att::get(&mut c, id)
        .await
        .map_err(|_| AppError::NotFound("佐证材料".into()))?;
    let (_, t) = viewable(&mut c, who, row.matter_id).await?;
    if row.removed_at.is_some() && !may_see_withdrawn(who, &t) {
        return Err(AppError::NotFound("佐证材料（已撤回）".into()));
    }
    let bytes = store_att::blob(&mut c, &row.sha256).await?;
    drop(c);
    if t.label != Label::Normal {
        // Every read of a restricted (敏感/核心) record is in the audit trail (等保 安全审计 a).
        audit::record_alone(
            app,
            who,
            Event::ok(
                "attachment.read_restricted",
                "attachment",
                id,
                format!("matter={} label={}", row.matter_id, t.label.code()),
            ),
        )
        .await?;
    }
    Ok(Download {
        kind: FileKind::of_media_type(&row.media_type),
        row,
        bytes,
    })
}

/// Withdraw an attachment (the uploader or 督查室, while the matter may change). The row and
/// the bytes stay; the withdrawal is on the timeline and in the audit trail.
/// Returns the matter's id.
pub async fn remove_attachment(app: &App, who: &Caller, id: i64, reason: &str) -> AppResult<i64> {
    let reason = bounded("reason", reason)?;
    let mut c = app.store.begin().await?;
    let row = store_att::get(&mut c, id)
        .await
        .map_err(|_| AppError::NotFound("佐证材料".into()))?;
    let (m, t) = viewable(&mut c, who, row.matter_id).await?;
    if row.removed_at.is_some() {
        return Err(AppError::rule("already_removed", "该佐证材料已撤回"));
    }
    let mut probe = row.clone();
    probe.removed_at = None;
    if !may_remove(who, &t, &probe) {
        return Err(AppError::Forbidden);
    }
    require_open(&mut c, &m).await?;
    store_att::mark_removed(&mut c, id, who.person_id, &reason, app.clock.now_ms())
        .await
        .map_err(|_| AppError::rule("already_removed", "该佐证材料已撤回"))?;
    let from = status_of(&m)?;
    let note = if reason.is_empty() {
        row.filename.clone()
    } else {
        format!("{}（{reason}）", row.filename)
    };
    record_event(
        app,
        &mut c,
        who,
        row.matter_id,
        "attachment_remove",
        Some(from),
        Some(from),
        &note,
    )
    .await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "attachment.remove",
            "attachment",
            id,
            format!(
                "matter={} number={} sha256={} name={} reason={reason}",
                row.matter_id, m.number, row.sha256, row.filename
            ),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(row.matter_id)
}

/// Demo data: attach a generated evidence file to a demo matter's 进展反馈, straight through the
/// store inside the demo's transaction (the demo writes its timeline rows itself). Every third
/// one is a PNG chart shared by several matters (stored once), the others a PDF naming the
/// matter. Returns the file name.
pub(crate) async fn demo_evidence(
    c: &mut Conn,
    m: &MatterRow,
    report_id: i64,
    uploader: i64,
    at_ms: i64,
    i: usize,
) -> AppResult<String> {
    let (name, kind, bytes) = if i.is_multiple_of(3) {
        let bars = [[35u8, 60, 85], [50, 70, 40], [90, 65, 30]][i % 9 / 3];
        (
            "工作推进情况图.png".to_owned(),
            FileKind::Png,
            samples::png_bars(&bars, 120, 60),
        )
    } else {
        let day = crate::clock::date_of_ms(at_ms);
        let lines = [
            "Taizhang demo evidence".to_owned(),
            format!("Matter {}-{}", m.year, m.seq),
            format!("Progress report of {day}"),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        (
            format!("{day}进展佐证材料.pdf"),
            FileKind::Pdf,
            samples::pdf(&refs),
        )
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    store_att::put_blob(c, &sha, kind.media_type(), &bytes, at_ms).await?;
    store_att::insert(
        c,
        &AttachmentRow {
            id: 0,
            matter_id: m.id,
            report_id: Some(report_id),
            sha256: sha,
            size_bytes: i64::try_from(bytes.len()).unwrap_or(0),
            media_type: kind.media_type().into(),
            filename: name.clone(),
            uploaded_by: uploader,
            uploaded_at: at_ms,
            removed_at: None,
            removed_by: None,
            removed_reason: String::new(),
        },
    )
    .await?;
    Ok(name)
}

/// Demo evidence: a one-page PDF and a small PNG chart, generated here (no files shipped).
pub mod samples {
    /// A valid one-page PDF whose page shows `lines` (ASCII) in Helvetica.
    pub fn pdf(lines: &[&str]) -> Vec<u8> {
        let mut content = String::from("BT /F1 14 Tf 72 760 Td 18 TL\n");
        for l in lines {
            let esc: String = l
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control())
                .flat_map(|c| match c {
                    '(' | ')' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            content.push_str(&format!("({esc}) Tj T*\n"));
        }
        content.push_str("ET\n");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_owned(),
            format!(
                "<< /Length {} >>\nstream\n{content}endstream",
                content.len()
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        ];
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
        !crc
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }

    /// A small RGB PNG (uncompressed deflate blocks): a bar chart of `bars` (0–100) in red,
    /// yellow and green on white, `w`×`h` pixels.
    pub fn png_bars(bars: &[u8], w: u32, h: u32) -> Vec<u8> {
        let colors: [[u8; 3]; 3] = [[0xC8, 0x10, 0x2E], [0xF2, 0xB7, 0x05], [0x2E, 0x8B, 0x57]];
        let n = bars.len().max(1) as u32;
        let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
        for y in 0..h {
            raw.push(0); // filter: none
            for x in 0..w {
                let slot = (x * n / w.max(1)) as usize;
                let in_gap = (x * n) % w.max(1) < w / (n * 6).max(1);
                let value = u32::from(*bars.get(slot).unwrap_or(&0)).min(100);
                let top = h - h * value / 100;
                let px = if !in_gap && y >= top {
                    colors[slot % colors.len()]
                } else {
                    [0xFF, 0xFF, 0xFF]
                };
                raw.extend_from_slice(&px);
            }
        }
        // zlib stream of stored blocks.
        let mut z = vec![0x78, 0x01];
        let mut chunks = raw.chunks(65_535).peekable();
        while let Some(block) = chunks.next() {
            z.push(u8::from(chunks.peek().is_none()));
            let len = block.len() as u16;
            z.extend_from_slice(&len.to_le_bytes());
            z.extend_from_slice(&(!len).to_le_bytes());
            z.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &x in &raw {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        z.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &z);
        chunk(&mut out, b"IEND", &[]);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn code(r: AppResult<impl std::fmt::Debug>) -> String {
        match r {
            Err(AppError::Invalid { code, .. }) => code,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_generated_samples_are_what_they_claim() {
        assert_eq!(sniff(&samples::pdf(&["Taizhang"])).unwrap(), FileKind::Pdf);
        assert_eq!(
            sniff(&samples::png_bars(&[30, 60, 90], 60, 30)).unwrap(),
            FileKind::Png
        );
    }

    #[test]
    fn names_are_cleaned_and_keep_chinese() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("..\\..\\windows\\win.ini"), "win.ini");
        assert_eq!(sanitize_filename("C:\\x\\报告.pdf"), "报告.pdf");
        assert_eq!(sanitize_filename("a.png\0.html"), "a.png.html");
        assert_eq!(sanitize_filename("\u{202E}gnp.exe"), "gnp.exe");
        assert_eq!(sanitize_filename("CON.txt"), "_CON.txt");
        assert_eq!(sanitize_filename("aux"), "_aux");
        assert_eq!(sanitize_filename("report.pdf. . "), "report.pdf");
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        assert_eq!(sanitize_filename(".."), "");
        assert_eq!(sanitize_filename("\"><script>.txt"), "___script_.txt");
        assert_eq!(sanitize_filename("e\u{301}.txt"), "\u{e9}.txt");
        assert_eq!(
            sanitize_filename("干部  一处\t整改 报告.docx"),
            "干部 一处 整改 报告.docx"
        );
        let long = format!("{}.pdf", "长".repeat(300));
        let s = sanitize_filename(&long);
        assert_eq!(s.chars().count(), FILENAME_MAX_CHARS);
        assert!(s.ends_with(".pdf"));
    }

    #[test]
    fn the_extension_must_match_the_content() {
        let png = samples::png_bars(&[50], 8, 8);
        let k = sniff(&png).unwrap();
        assert_eq!(code(name_for("报告.pdf", k)), "extension_mismatch");
        assert_eq!(name_for("现场照片", k).unwrap().0, "现场照片.png");
        assert_eq!(name_for("现场照片.PNG", k).unwrap().0, "现场照片.PNG");
        assert_eq!(name_for("", k).unwrap().0, "佐证材料.png");
        assert_eq!(name_for("表.csv", FileKind::Text).unwrap().1, FileKind::Csv);
        assert_eq!(code(name_for("a.png\0.html", k)), "extension_mismatch");
        assert_eq!(
            code(name_for("note.html", FileKind::Text)),
            "extension_mismatch"
        );
    }

    #[test]
    fn dangerous_content_is_refused_by_what_it_is() {
        let mut exe = b"MZ\x90\0\x03\0\0\0".to_vec();
        exe.resize(0x80, 0);
        exe[0x3C] = 0x40;
        exe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert_eq!(code(sniff(&exe)), "executable");
        assert_eq!(code(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0\0\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40\0\x38\0")), "executable");
        assert_eq!(code(sniff(b"#!/bin/sh\nrm -rf /\n")), "executable");
        assert_eq!(
            code(sniff(
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
            )),
            "script_carrier"
        );
        assert_eq!(
            code(sniff(
                b"<?xml version=\"1.0\"?>\n<svg onload=\"alert(1)\"/>"
            )),
            "script_carrier"
        );
        assert_eq!(
            code(sniff(b"  <!DOCTYPE html><html><body>x</body></html>")),
            "script_carrier"
        );
        assert_eq!(code(sniff(b"<script>alert(1)</script>")), "script_carrier");
        assert_eq!(code(sniff(b"\x1f\x8b\x08\0\0\0\0\0\0\x03")), "archive");
        assert_eq!(code(sniff(b"Rar!\x1a\x07\x01\0")), "archive");
        assert_eq!(code(sniff(b"")), "file_empty");
        assert_eq!(code(sniff(b"\0\x01\x02\x03binary")), "file_type");
        assert_eq!(
            sniff("序号,事项\n1,整改\n".as_bytes()).unwrap(),
            FileKind::Text
        );
        // Text that merely starts with "MZ" is text.
        assert_eq!(sniff("MZ公司整改说明".as_bytes()).unwrap(), FileKind::Text);
    }

    #[test]
    fn zips_are_office_documents_or_refused() {
        use std::io::Write;
        let mk = |names: &[&str]| {
            let mut buf = Cursor::new(Vec::new());
            {
                let mut z = zip::ZipWriter::new(&mut buf);
                for n in names {
                    z.start_file(
                        *n,
                        zip::write::SimpleFileOptions::default()
                            .compression_method(zip::CompressionMethod::Stored),
                    )
                    .unwrap();
                    z.write_all(b"<x/>").unwrap();
                }
                z.finish().unwrap();
            }
            buf.into_inner()
        };
        let docx = mk(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        assert_eq!(sniff(&docx).unwrap(), FileKind::Docx);
        let xlsx = mk(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert_eq!(sniff(&xlsx).unwrap(), FileKind::Xlsx);
        let pptx = mk(&["[Content_Types].xml", "ppt/presentation.xml"]);
        assert_eq!(sniff(&pptx).unwrap(), FileKind::Pptx);
        let ofd = mk(&["OFD.xml", "Doc_0/Document.xml"]);
        assert_eq!(sniff(&ofd).unwrap(), FileKind::Ofd);
        let xlsm = mk(&[
            "[Content_Types].xml",
            "xl/workbook.xml",
            "xl/vbaProject.bin",
        ]);
        assert_eq!(code(sniff(&xlsm)), "macro");
        let plain = mk(&["a.txt", "b.exe"]);
        assert_eq!(code(sniff(&plain)), "archive");
        assert_eq!(code(sniff(b"PK\x03\x04garbage")), "file_type");
        // An xlsx renamed to .docx is refused.
        assert_eq!(
            code(name_for("方案.docx", FileKind::Xlsx)),
            "extension_mismatch"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(20 << 20), "20.0 MB");
    }
}
