//! Hostile and broken files: each gives a clear error (or a bounded read), never a panic.

use std::io::{Cursor, Read, Write};

use rust_xlsxwriter::{Format, Workbook};
use taizhang_office::{ImportError, ImportLimits, ImportOptions, read_ledger};
use zip::write::SimpleFileOptions;

use super::workbooks::{SheetSpec, T, header, matter, xlsx};

fn err(bytes: &[u8], name: &str) -> ImportError {
    read_ledger(bytes, name, &ImportOptions::default()).unwrap_err()
}

fn small_ledger() -> Vec<u8> {
    xlsx(vec![SheetSpec::new("S").row(header()).row(matter(
        1,
        "事项",
        "组织科",
        T("6月底"),
    ))])
}

/// Rewrites one part of a zip archive.
fn replace_part(bytes: &[u8], part: &str, edit: impl Fn(String) -> String) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == part {
            data = edit(String::from_utf8(data).unwrap()).into_bytes();
        }
        out.start_file(name, SimpleFileOptions::default()).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_zip_bomb_with_an_extreme_compression_ratio_is_refused_before_parsing() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file("[Content_Types].xml", opts).unwrap();
    w.write_all(b"<Types/>").unwrap();
    w.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..8 {
        w.write_all(&zeros).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    assert!(bytes.len() < 64 * 1024, "bomb is {} bytes", bytes.len());
    assert!(matches!(
        err(&bytes, "bomb.xlsx"),
        ImportError::ZipRatio { .. }
    ));
}

#[test]
fn a_zip_whose_total_uncompressed_size_exceeds_the_cap_is_refused() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..5 {
        w.start_file(format!("xl/media/image{i}.bin"), stored)
            .unwrap();
        w.write_all(&vec![i as u8; 1 << 20]).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    let opts = ImportOptions {
        limits: ImportLimits {
            max_uncompressed_bytes: 4 << 20,
            ..ImportLimits::default()
        },
        ..ImportOptions::default()
    };
    let e = read_ledger(&bytes, "big.xlsx", &opts).unwrap_err();
    assert!(matches!(e, ImportError::ZipTooLarge { .. }), "{e}");
    assert!(e.to_string().contains("压缩炸弹"));
}

#[test]
fn a_zip_with_too_many_entries_is_refused() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..50 {
        w.start_file(format!("x/{i}.xml"), SimpleFileOptions::default())
            .unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    let opts = ImportOptions {
        limits: ImportLimits {
            max_zip_entries: 20,
            ..ImportLimits::default()
        },
        ..ImportOptions::default()
    };
    assert!(matches!(
        read_ledger(&bytes, "x.xlsx", &opts).unwrap_err(),
        ImportError::ZipEntries { count: 50, .. }
    ));
}

#[test]
fn a_doctype_in_the_workbook_xml_is_refused_as_xxe() {
    let bytes = replace_part(&small_ledger(), "xl/workbook.xml", |xml| {
        xml.replacen(
            "?>",
            "?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
            1,
        )
    });
    match err(&bytes, "xxe.xlsx") {
        ImportError::XmlDoctype { part } => assert_eq!(part, "xl/workbook.xml"),
        other => panic!("{other}"),
    }
}

#[test]
fn billion_laughs_entities_in_shared_strings_are_refused() {
    let bytes = replace_part(&small_ledger(), "xl/sharedStrings.xml", |xml| {
        xml.replacen(
            "?>",
            "?><!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>",
            1,
        )
    });
    assert!(matches!(
        err(&bytes, "lol.xlsx"),
        ImportError::XmlDoctype { .. }
    ));
}

#[test]
fn files_whose_content_does_not_match_the_extension_are_refused() {
    assert!(matches!(
        err(b"a,b\n", "x.xlsx"),
        ImportError::ContentMismatch { .. }
    ));
    assert!(matches!(
        err(&small_ledger(), "x.csv"),
        ImportError::ContentMismatch { .. }
    ));
    assert!(matches!(
        err(b"%PDF-1.7 ...", "x.xls"),
        ImportError::ContentMismatch { .. }
    ));
    assert!(matches!(err(b"", "x.csv"), ImportError::Empty));
    let e = err(b"MZ\x90\x00", "x.exe");
    assert!(matches!(e, ImportError::UnsupportedExtension(_)), "{e}");
}

#[test]
fn an_encrypted_workbook_is_refused_with_a_clear_message() {
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(1024, 0);
    ole.extend("EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes));
    for name in ["secret.xlsx", "secret.xls"] {
        let e = err(&ole, name);
        assert_eq!(e, ImportError::Encrypted);
        assert!(e.to_string().contains("密码"));
    }
}

#[test]
fn a_broken_ole_file_named_xls_is_a_clear_error_not_a_panic() {
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(2048, 0xAB);
    assert!(matches!(err(&ole, "x.xls"), ImportError::Corrupt(_)));
}

#[test]
fn duplicate_headers_are_refused_naming_both_columns() {
    let mut hdr = header();
    hdr.push(T("责任单位"));
    let bytes = xlsx(vec![SheetSpec::new("S").row(hdr).row(matter(
        1,
        "事项",
        "组织科",
        T("6月底"),
    ))]);
    match err(&bytes, "dup.xlsx") {
        ImportError::DuplicateHeader {
            first, second, row, ..
        } => assert_eq!((first.as_str(), second.as_str(), row), ("F", "K", 1)),
        other => panic!("{other}"),
    }
}

#[test]
fn reading_stops_after_a_long_run_of_empty_rows_so_200000_blank_rows_cost_nothing() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let fmt = Format::new().set_bold();
    for (c, h) in ["序号", "事项名称", "牵头单位", "完成时限"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_row(1, 0, ["1", "第一件事", "组织科", "2026年6月30日"])
        .unwrap();
    for r in 2..200_002 {
        ws.write_blank(r, 0, &fmt).unwrap();
    }
    ws.write_row(200_005, 0, ["2", "远处的事", "组织科", "2026年6月30日"])
        .unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let p = read_ledger(&bytes, "empty.xlsx", &ImportOptions::default()).unwrap();
    assert_eq!(p.matters.len(), 1);
}

#[test]
fn a_sheet_with_sixteen_thousand_columns_is_refused() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_row(0, 0, ["事项名称", "牵头单位"]).unwrap();
    for c in 0..16_000u16 {
        ws.write_string(1, c, "x").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    assert!(matches!(
        err(&bytes, "wide.xlsx"),
        ImportError::TooManyColumns { .. }
    ));
}

#[test]
fn a_csv_with_100000_columns_is_refused() {
    let mut text = String::from("事项名称,牵头单位\n");
    text.push_str(&"x,".repeat(100_000));
    assert!(matches!(
        err(text.as_bytes(), "wide.csv"),
        ImportError::TooManyColumns { count: 257, .. }
    ));
}

#[test]
fn csv_in_utf16_or_undecodable_bytes_is_refused_as_an_encoding_error() {
    assert_eq!(err(b"\xFF\xFEa\x00", "x.csv"), ImportError::Encoding);
    assert_eq!(err(b"\x81\x20\xFF\xFF", "x.csv"), ImportError::Encoding);
}

#[test]
fn a_workbook_without_any_ledger_header_is_refused() {
    let bytes = xlsx(vec![SheetSpec::new("S").row(vec![T("姓名"), T("电话")])]);
    assert_eq!(err(&bytes, "x.xlsx"), ImportError::NoHeader);
}
