//! Export → import round trips, the look of the exported workbook, and formula neutralization.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use jiff::civil::date;
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::light::Light;
use taizhang_office::export::LedgerMilestone;
use taizhang_office::{
    ImportOptions, ImportedMatter, LedgerMeta, LedgerRow, ParsedDeadline, read_ledger,
    write_ledger_csv, write_ledger_xlsx,
};

fn meta() -> LedgerMeta {
    LedgerMeta {
        title: "督办事项台账".into(),
        reporting_unit: "组织科".into(),
        exported_at: "2026-11-29 10:30".into(),
    }
}

pub fn sample_rows() -> Vec<LedgerRow> {
    let base = LedgerRow {
        year: 2026,
        seq: 1,
        number: "DB-2026-001".into(),
        title: "推进基层党建述职评议".into(),
        content: "全覆盖开展述职评议\n形成问题清单".into(),
        source: "部务会".into(),
        lead_leader: "张三".into(),
        lead_unit: "组织科".into(),
        assisting_units: vec!["办公室".into(), "干部科".into()],
        deadline: Some(date(2026, 6, 30)),
        deadline_note: String::new(),
        feedback_cycle: Some(FeedbackCycle::MonthlyDay { day: 5 }),
        milestones: vec![
            LedgerMilestone {
                date: Some(date(2026, 3, 31)),
                title: "制定方案".into(),
            },
            LedgerMilestone {
                date: Some(date(2026, 5, 31)),
                title: "完成评议".into(),
            },
        ],
        remaining_workdays: Some(12),
        light: Some(Light::Yellow),
        status: "办理中".into(),
        progress: "已完成方案制定".into(),
        problems: "个别支部进度慢".into(),
        next_steps: "加强督导".into(),
        remarks: String::new(),
    };
    vec![
        base.clone(),
        LedgerRow {
            seq: 2,
            number: "DB-2026-002".into(),
            title: "=HYPERLINK(\"http://evil.example\",\"点我\")".into(),
            content: "+1+1".into(),
            source: "@SUM(1,1)".into(),
            lead_unit: "人才办".into(),
            assisting_units: vec![],
            deadline: None,
            deadline_note: "长期坚持".into(),
            feedback_cycle: Some(FeedbackCycle::Weekly { weekday: 5 }),
            milestones: vec![],
            remaining_workdays: None,
            light: Some(Light::Red),
            progress: "-2+3".into(),
            problems: "＝1+1".into(),
            remarks: "=cmd|' /C calc'!A0".into(),
            ..base.clone()
        },
        LedgerRow {
            year: 2025,
            seq: 1,
            number: "DB-2025-009".into(),
            title: "去年结转事项".into(),
            light: Some(Light::Green),
            remaining_workdays: Some(-3),
            ..base
        },
    ]
}

/// The imported matter carries what the row said.
fn assert_same(m: &ImportedMatter, r: &LedgerRow) {
    assert_eq!(m.title, r.title);
    assert_eq!(m.number.as_deref(), Some(r.number.as_str()));
    assert_eq!(m.requirements, r.content);
    assert_eq!(m.source, r.source);
    assert_eq!(m.lead_leader_name, r.lead_leader);
    assert_eq!(m.lead_unit_names, vec![r.lead_unit.clone()]);
    assert_eq!(m.assisting_unit_names, r.assisting_units);
    match r.deadline {
        Some(d) => assert_eq!(m.deadline.date(), Some(d), "{}", r.title),
        None => assert_eq!(
            m.deadline,
            ParsedDeadline::NoFixed {
                text: r.deadline_note.clone()
            }
        ),
    }
    assert_eq!(m.feedback_cycle, r.feedback_cycle);
    let ms: Vec<LedgerMilestone> = m
        .milestones
        .iter()
        .map(|x| LedgerMilestone {
            date: x.date,
            title: x.title.clone(),
        })
        .collect();
    assert_eq!(ms, r.milestones);
    assert_eq!(m.status_text, r.status);
    assert_eq!(m.progress_text, r.progress);
    assert_eq!(m.problems, r.problems);
    assert_eq!(m.next_steps, r.next_steps);
    assert_eq!(m.remarks, r.remarks);
}

fn export_xlsx(rows: &[LedgerRow]) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    write_ledger_xlsx(rows, &meta(), &mut buf).unwrap();
    buf.into_inner()
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn an_exported_xlsx_imports_back_to_the_same_matters_one_sheet_per_year() {
    let rows = sample_rows();
    let bytes = export_xlsx(&rows);
    let p = read_ledger(&bytes, "导出.xlsx", &ImportOptions::default()).unwrap();
    assert_eq!(p.refused, vec![]);
    let names: Vec<&str> = p.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["2025年", "2026年"]);
    assert_eq!(p.sheets[1].year, Some(2026));
    assert_eq!(p.sheets[1].reporting_unit.as_deref(), Some("组织科"));
    assert_eq!(p.matters.len(), 3);
    assert_same(&p.matters[0], &rows[2]);
    assert_same(&p.matters[1], &rows[0]);
    assert_same(&p.matters[2], &rows[1]);
}

#[test]
fn an_exported_csv_has_a_bom_and_imports_back_to_the_same_matters() {
    let rows = sample_rows();
    let mut out = Vec::new();
    write_ledger_csv(&rows, &mut out).unwrap();
    assert!(out.starts_with(b"\xEF\xBB\xBF"));
    let p = read_ledger(&out, "导出.csv", &ImportOptions::default()).unwrap();
    assert_eq!(p.refused, vec![]);
    assert_eq!(p.matters.len(), 3);
    for (m, r) in p.matters.iter().zip(&rows) {
        assert_same(m, r);
    }
}

#[test]
fn formula_like_values_are_neutralized_in_csv() {
    let mut out = Vec::new();
    write_ledger_csv(&sample_rows(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    for needle in ["'=HYPERLINK", "'+1+1", "'@SUM", "'-2+3", "'＝1+1", "'=cmd"] {
        assert!(text.contains(needle), "{needle} missing");
    }
    for line in text.lines() {
        for field in line.split(',') {
            let f = field.trim_start_matches('"');
            assert!(
                !f.starts_with(['=', '+', '@', '＝']),
                "live formula in {line}"
            );
        }
    }
}

#[test]
fn formula_like_values_are_strings_with_a_quote_prefix_in_xlsx_and_never_formulas() {
    let bytes = export_xlsx(&sample_rows());
    let sheet = part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(!sheet.contains("<f>"), "a formula was written");
    assert!(part(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let formulas = book.worksheet_formula("2026年").unwrap();
    assert!(formulas.used_cells().next().is_none());
    let range = book.worksheet_range("2026年").unwrap();
    assert!(
        range
            .used_cells()
            .any(|(_, _, v)| *v
                == Data::String("=HYPERLINK(\"http://evil.example\",\"点我\")".into()))
    );
}

#[test]
fn the_exported_sheet_has_the_title_header_freeze_filter_print_setup_and_light_fills() {
    let bytes = export_xlsx(&sample_rows());
    let sheet = part(&bytes, "xl/worksheets/sheet2.xml");
    for needle in [
        "<pane xSplit=\"3\" ySplit=\"4\"",
        "<autoFilter ref=\"A4:R6\"",
        "<mergeCell ref=\"A1:R1\"",
        "<mergeCell ref=\"A3:E3\"",
        "<mergeCell ref=\"R3:R4\"",
        "orientation=\"landscape\"",
        "paperSize=\"9\"",
        "fitToHeight=\"0\"",
        "&amp;P",
    ] {
        assert!(sheet.contains(needle), "{needle} missing");
    }
    let styles = part(&bytes, "xl/styles.xml");
    for rgb in ["FFF8696B", "FFFFEB84", "FF63BE7B"] {
        assert!(styles.contains(rgb), "{rgb} fill missing");
    }
    let workbook = part(&bytes, "xl/workbook.xml");
    assert!(workbook.contains("_xlnm.Print_Titles"));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("2026年").unwrap();
    assert_eq!(
        range.get_value((0, 0)),
        Some(&Data::String("2026年度督办事项台账".into()))
    );
}

#[test]
fn a_large_export_streams_in_constant_memory_mode_and_reads_back_complete() {
    let base = sample_rows().remove(0);
    let rows: Vec<LedgerRow> = (1..=5_000)
        .map(|i| LedgerRow {
            seq: i,
            number: format!("DB-{i:05}"),
            title: format!("事项{i}"),
            ..base.clone()
        })
        .collect();
    let bytes = export_xlsx(&rows);
    let p = read_ledger(&bytes, "big.xlsx", &ImportOptions::default()).unwrap();
    assert_eq!(p.matters.len(), 5_000);
    assert_eq!(p.summary().milestones, 10_000);
}

#[test]
fn the_streaming_writers_put_interleaved_years_on_sheets_in_year_order_rows_in_push_order() {
    use taizhang_office::{LedgerCsvWriter, LedgerXlsxWriter};

    let base = sample_rows().remove(0);
    let rows: Vec<LedgerRow> = [2026, 2025, 2026, 2024, 2025, 2026]
        .into_iter()
        .enumerate()
        .map(|(i, year)| LedgerRow {
            year,
            seq: i as u32 + 1,
            number: format!("DB-{year}-{i:03}"),
            title: format!("事项{i}"),
            ..base.clone()
        })
        .collect();
    let mut w = LedgerXlsxWriter::new(&meta());
    for r in &rows {
        w.push(r).unwrap();
    }
    assert_eq!(w.rows(), 6);
    let mut buf = Cursor::new(Vec::new());
    w.finish(&mut buf).unwrap();
    let bytes = buf.into_inner();
    // Same bytes as the slice form, which writes through the same writer.
    assert_eq!(part(&bytes, "xl/worksheets/sheet1.xml"), {
        let b = export_xlsx(&rows);
        part(&b, "xl/worksheets/sheet1.xml")
    });
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), vec!["2024年", "2025年", "2026年"]);
    for (sheet, want) in [
        ("2024年", vec!["DB-2024-003"]),
        ("2025年", vec!["DB-2025-001", "DB-2025-004"]),
        ("2026年", vec!["DB-2026-000", "DB-2026-002", "DB-2026-005"]),
    ] {
        let range = book.worksheet_range(sheet).unwrap();
        let title = format!("{sheet}度督办事项台账");
        assert_eq!(range.get_value((0, 0)), Some(&Data::String(title)));
        let got: Vec<String> = range.rows().skip(4).map(|r| r[1].to_string()).collect();
        assert_eq!(got, want, "{sheet}");
    }
    // Each sheet's auto-filter ends at its own last row.
    assert!(part(&bytes, "xl/worksheets/sheet1.xml").contains("<autoFilter ref=\"A4:R5\""));
    assert!(part(&bytes, "xl/worksheets/sheet3.xml").contains("<autoFilter ref=\"A4:R7\""));

    let mut c = LedgerCsvWriter::new(Vec::new()).unwrap();
    for r in &rows {
        c.push(r).unwrap();
    }
    assert_eq!(c.rows(), 6);
    let streamed = c.finish().unwrap();
    let mut whole = Vec::new();
    write_ledger_csv(&rows, &mut whole).unwrap();
    assert_eq!(streamed, whole);
}

#[test]
fn an_empty_export_is_one_empty_sheet_titled_with_the_ledger_title() {
    let bytes = export_xlsx(&[]);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), vec!["台账"]);
    let range = book.worksheet_range("台账").unwrap();
    assert_eq!(
        range.get_value((0, 0)),
        Some(&Data::String("督办事项台账".into()))
    );
    assert!(part(&bytes, "xl/worksheets/sheet1.xml").contains("<autoFilter ref=\"A4:R5\""));
}
