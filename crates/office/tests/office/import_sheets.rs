//! Sheets per year, re-import keys, CSV encodings, renamed-by-WPS files and the CLI summary.

use jiff::civil::date;
use taizhang_office::{ImportOptions, ParsedDeadline, ParsedWorkbook, read_ledger};

use super::workbooks::{D, SheetSpec, T, header, matter, xlsx};

fn read(bytes: &[u8], name: &str) -> ParsedWorkbook {
    read_ledger(bytes, name, &ImportOptions::default()).unwrap()
}

fn deadline_of(p: &ParsedWorkbook, title: &str) -> ParsedDeadline {
    p.matters
        .iter()
        .find(|m| m.title == title)
        .unwrap_or_else(|| panic!("no {title}"))
        .deadline
        .clone()
}

fn on(y: i16, m: i8, d: i8) -> ParsedDeadline {
    ParsedDeadline::Date {
        date: date(y, m, d),
        end_of_period: false,
    }
}

fn end(y: i16, m: i8, d: i8) -> ParsedDeadline {
    ParsedDeadline::Date {
        date: date(y, m, d),
        end_of_period: true,
    }
}

fn yearly_book() -> Vec<u8> {
    xlsx(vec![
        SheetSpec::new("2025年")
            .row(header())
            .row(matter(1, "去年的事项", "组织科", T("12月底"))),
        SheetSpec::new("2026年")
            .row(header())
            .row(matter(1, "今年的事项一", "组织科", T("3月底")))
            .row(matter(2, "今年的事项二", "干部科", T("6月底"))),
        SheetSpec::new("填表说明").row(vec![T("本表由各科室填写")]),
    ])
}

#[test]
fn shape_7_one_sheet_per_year_is_selected_by_sheet_name_or_by_year() {
    let all = read(&yearly_book(), "x.xlsx");
    assert_eq!(all.matters.len(), 3);
    assert_eq!(deadline_of(&all, "去年的事项"), end(2025, 12, 31));
    let by_year = read_ledger(
        &yearly_book(),
        "x.xlsx",
        &ImportOptions {
            year: Some(2026),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_year.matters.len(), 2);
    let by_name = read_ledger(
        &yearly_book(),
        "x.xlsx",
        &ImportOptions {
            sheet: Some("2025年".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_name.matters.len(), 1);
    let missing = read_ledger(
        &yearly_book(),
        "x.xlsx",
        &ImportOptions {
            sheet: Some("2024年".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(missing.to_string().contains("2024年"), "{missing}");
}

#[test]
fn a_reimport_of_the_same_row_has_the_same_source_key_and_different_rows_differ() {
    let a = read(&yearly_book(), "x.xlsx");
    let b = read(&yearly_book(), "copy.xlsx");
    let keys = |p: &ParsedWorkbook| {
        p.matters
            .iter()
            .map(|m| m.source_key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&a), keys(&b));
    let mut k = keys(&a);
    k.dedup();
    assert_eq!(k.len(), 3);
}

#[test]
fn csv_in_utf8_with_bom_without_bom_and_in_gbk_reads_the_same() {
    let text = "序号,事项名称,牵头单位,完成时限\r\n1,推进党建工作,组织科,2026年6月30日\r\n2,人才工作,人才办,长期坚持\r\n";
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    let (gbk, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    for (bytes, label) in [
        (with_bom, "bom"),
        (text.as_bytes().to_vec(), "utf8"),
        (gbk.into_owned(), "gbk"),
    ] {
        let p = read(&bytes, "ledger.csv");
        let s = p.summary();
        assert_eq!((s.matters, s.no_fixed_deadline), (2, 1), "{label}");
        assert_eq!(p.matters[0].title, "推进党建工作", "{label}");
        assert_eq!(p.matters[0].deadline, on(2026, 6, 30), "{label}");
        assert_eq!(p.matters[1].row, 3, "{label}");
    }
}

#[test]
fn an_xlsx_saved_under_xls_by_wps_is_read_by_content() {
    let bytes = xlsx(vec![SheetSpec::new("S").row(header()).row(matter(
        1,
        "事项",
        "组织科",
        D(2026, 1, 31),
    ))]);
    assert_eq!(read(&bytes, "old.xls").matters.len(), 1);
}

#[test]
fn the_summary_serializes_to_the_cli_json_shape() {
    let bytes = xlsx(vec![SheetSpec::new("2026年").row(header()).row(matter(
        1,
        "事项",
        "组织科",
        T("2026年13月1日"),
    ))]);
    let json = serde_json::to_value(read(&bytes, "x.xlsx").summary()).unwrap();
    assert_eq!(json["matters"], 0);
    assert_eq!(json["milestones"], 0);
    assert_eq!(json["no_fixed_deadline"], 0);
    assert_eq!(json["refused"][0]["sheet"], "2026年");
    assert_eq!(json["refused"][0]["row"], 2);
    assert!(
        json["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("没有 13 月")
    );
}
