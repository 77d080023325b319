//! Checks run on the raw bytes before any parser sees them: file type by content (magic
//! bytes), encryption, and for zip-based workbooks the central directory (entry count,
//! declared sizes, ratio, paths) plus a bounded streaming pass over every XML part that
//! measures the actual uncompressed size and refuses DOCTYPE/ENTITY declarations.

use std::io::{Cursor, Read};

use super::{FileFormat, ImportError, ImportLimits};

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// What the bytes look like.
fn detect(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(ZIP_MAGIC) {
        "ZIP 压缩包（xlsx/docx）"
    } else if bytes.starts_with(OLE_MAGIC) {
        "OLE 复合文档（xls/doc）"
    } else if bytes.starts_with(b"%PDF") {
        "PDF 文档"
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        "文本文件" // UTF-16 text: refused later with a clear encoding error
    } else if bytes.iter().take(4096).any(|b| *b == 0) {
        "二进制文件"
    } else {
        "文本文件"
    }
}

/// Picks the format from the extension and checks that the content agrees.
pub(crate) fn sniff(
    bytes: &[u8],
    file_name: &str,
    limits: &ImportLimits,
) -> Result<FileFormat, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(ImportError::TooLarge {
            size,
            limit: limits.max_file_bytes,
        });
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let detected = detect(bytes);
    let mismatch = || ImportError::ContentMismatch {
        extension: format!(".{ext}"),
        detected,
    };
    // An encrypted .xlsx is an OLE container holding EncryptionInfo + EncryptedPackage.
    if bytes.starts_with(OLE_MAGIC) && is_encrypted_ole(bytes) && (ext == "xlsx" || ext == "xls") {
        return Err(ImportError::Encrypted);
    }
    match ext.as_str() {
        "xlsx" | "xlsm" if bytes.starts_with(ZIP_MAGIC) => Ok(FileFormat::Xlsx),
        "xls" if bytes.starts_with(OLE_MAGIC) => Ok(FileFormat::Xls),
        // WPS and some systems save an .xlsx under .xls: take it by content.
        "xls" if bytes.starts_with(ZIP_MAGIC) => Ok(FileFormat::Xlsx),
        "csv" | "txt" if detected == "文本文件" => Ok(FileFormat::Csv),
        "xlsx" | "xlsm" | "xls" | "csv" | "txt" => Err(mismatch()),
        _ => Err(ImportError::UnsupportedExtension(format!(".{ext}"))),
    }
}

/// An OLE file whose directory names the ECMA-376 encryption streams, or (legacy .xls) a
/// FILEPASS record near the start of the Workbook stream. Directory names are UTF-16LE.
fn is_encrypted_ole(bytes: &[u8]) -> bool {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let needles = [utf16("EncryptedPackage"), utf16("EncryptionInfo")];
    needles
        .iter()
        .any(|n| bytes.windows(n.len()).any(|w| w == n.as_slice()))
}

/// Central-directory and content checks for a zip-based workbook (see the module doc).
pub(crate) fn check_zip(bytes: &[u8], limits: &ImportLimits) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ImportError::Corrupt(format!("不是有效的 xlsx（{e}）")))?;
    let count = archive.len();
    if count > limits.max_zip_entries {
        return Err(ImportError::ZipEntries {
            count,
            limit: limits.max_zip_entries,
        });
    }
    let mut declared: u64 = 0;
    for i in 0..count {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| ImportError::Corrupt(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| ImportError::Corrupt(e.to_string()))?
            .into_owned();
        if name.starts_with('/') || name.split(['/', '\\']).any(|p| p == "..") {
            return Err(ImportError::ZipPath(name));
        }
        if name == "EncryptedPackage" || name.ends_with("/EncryptedPackage") {
            return Err(ImportError::Encrypted);
        }
        let size = entry.size();
        let compressed = entry.compressed_size().max(1);
        declared = declared.saturating_add(size);
        if declared > limits.max_uncompressed_bytes {
            return Err(ImportError::ZipTooLarge {
                size: declared,
                limit: limits.max_uncompressed_bytes,
            });
        }
        let ratio = size / compressed;
        if size > 1 << 20 && ratio > limits.max_zip_ratio {
            return Err(ImportError::ZipRatio { entry: name, ratio });
        }
    }
    // Declared sizes can lie: decompress every part with a hard cap and scan the XML.
    let mut actual: u64 = 0;
    for i in 0..count {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ImportError::Corrupt(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| ImportError::Corrupt(e.to_string()))?
            .into_owned();
        let is_xml = name.ends_with(".xml") || name.ends_with(".rels") || name.ends_with(".vml");
        let budget = limits.max_uncompressed_bytes.saturating_sub(actual);
        actual += scan_entry(&mut entry, budget, is_xml, &name, limits)?;
    }
    Ok(())
}

/// Streams one entry (at most `budget` + 1 bytes), returning its size; refuses DOCTYPE/ENTITY
/// in XML parts. The window keeps the last few bytes so a marker split across reads is found.
fn scan_entry(
    entry: &mut impl Read,
    budget: u64,
    is_xml: bool,
    name: &str,
    limits: &ImportLimits,
) -> Result<u64, ImportError> {
    let mut limited = entry.take(budget.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    let mut total: u64 = 0;
    loop {
        let n = limited
            .read(&mut buf)
            .map_err(|e| ImportError::Corrupt(format!("「{name}」解压失败（{e}）")))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > budget {
            return Err(ImportError::ZipTooLarge {
                size: limits.max_uncompressed_bytes.saturating_add(1),
                limit: limits.max_uncompressed_bytes,
            });
        }
        if is_xml {
            tail.extend_from_slice(&buf[..n]);
            if contains_ci(&tail, b"<!doctype") || contains_ci(&tail, b"<!entity") {
                return Err(ImportError::XmlDoctype {
                    part: name.to_owned(),
                });
            }
            let keep = tail.len().saturating_sub(16);
            tail.drain(..keep);
        }
    }
    Ok(total)
}

/// ASCII case-insensitive substring search (`needle` is lower case).
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| {
        w.iter()
            .zip(needle)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_file_renamed_to_xlsx_is_refused_as_a_mismatch() {
        let err = sniff(b"a,b\n1,2\n", "x.xlsx", &ImportLimits::default()).unwrap_err();
        assert!(matches!(err, ImportError::ContentMismatch { .. }), "{err}");
    }

    #[test]
    fn an_ole_file_naming_encrypted_package_is_refused_as_encrypted() {
        let mut bytes = OLE_MAGIC.to_vec();
        bytes.resize(512, 0);
        bytes.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        let err = sniff(&bytes, "x.xlsx", &ImportLimits::default()).unwrap_err();
        assert_eq!(err, ImportError::Encrypted);
    }

    #[test]
    fn unknown_extensions_are_refused() {
        let err = sniff(b"hello", "x.docx", &ImportLimits::default()).unwrap_err();
        assert!(matches!(err, ImportError::UnsupportedExtension(_)));
    }
}
