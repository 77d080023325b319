//! Reports open (parse) and contain the figures they were given.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use jiff::civil::date;
use taizhang_office::report::{MatterLine, ReconLine, StatusCount, Totals, UnitLine};
use taizhang_office::{
    AnnualReconciliation, Bulletin, MonthlyReport, ReportHeader, WeeklyReport, render_docx,
    render_xlsx,
};

fn header(title: &str) -> ReportHeader {
    ReportHeader {
        title: title.into(),
        doc_number: Some("督查通报第十七期".into()),
        issuer: "中共某市委组织部办公室".into(),
        date: date(2026, 11, 2),
    }
}

fn totals() -> Totals {
    Totals {
        total: 22,
        completed: 6,
        in_progress: 16,
        overdue: 3,
        extensions: 2,
        notices: 4,
    }
}

fn lagging() -> Vec<MatterLine> {
    vec![MatterLine {
        number: "DB-2026-007".into(),
        title: "村级组织阵地建设".into(),
        unit: "组织科".into(),
        deadline: Some(date(2026, 9, 30)),
        status: "办理中".into(),
        note: "资金未到位".into(),
    }]
}

fn units() -> Vec<UnitLine> {
    vec![
        UnitLine {
            unit: "组织科".into(),
            total: 10,
            completed: 4,
            in_progress: 6,
            overdue: 2,
        },
        UnitLine {
            unit: "干部科".into(),
            total: 12,
            completed: 2,
            in_progress: 10,
            overdue: 1,
        },
    ]
}

fn monthly() -> MonthlyReport {
    MonthlyReport {
        header: header("关于2026年10月督办事项办理情况的盘点报告"),
        year: 2026,
        month: 10,
        as_of: date(2026, 10, 31),
        totals: totals(),
        by_status: vec![
            StatusCount {
                label: "已办结".into(),
                count: 6,
            },
            StatusCount {
                label: "办理中".into(),
                count: 16,
            },
        ],
        by_unit: units(),
        lagging: lagging(),
        notices_by_color: vec![
            StatusCount {
                label: "黄".into(),
                count: 3,
            },
            StatusCount {
                label: "红".into(),
                count: 1,
            },
        ],
    }
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn has_media(bytes: &[u8]) -> bool {
    let z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    z.file_names()
        .map(|n| n.unwrap().into_owned())
        .any(|n| n.starts_with("word/media/") || n.starts_with("xl/media/"))
}

fn font_installed() -> bool {
    std::path::Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists()
}

#[test]
fn the_monthly_docx_has_the_title_numbered_headings_figures_table_issuer_and_fonts() {
    let bytes = render_docx(&monthly().to_document()).unwrap();
    let xml = part(&bytes, "word/document.xml");
    for needle in [
        "关于2026年10月督办事项办理情况的盘点报告",
        "一、总体情况",
        "二、各单位办理情况",
        "共有督办事项22件，其中已办结6件（27.3%），正在办理16件（72.7%），逾期3件",
        "村级组织阵地建设",
        "资金未到位",
        "40.0%",
        "中共某市委组织部办公室",
        "2026年11月2日",
        "方正小标宋简体",
        "仿宋_GB2312",
        "<w:tbl>",
    ] {
        assert!(xml.contains(needle), "{needle} missing");
    }
    let fonts = part(&bytes, "word/fontTable.xml");
    assert!(fonts.contains(r#"<w:font w:name="方正小标宋简体"><w:altName w:val="宋体"/>"#));
    if font_installed() {
        assert!(has_media(&bytes), "the completion chart is missing");
    }
}

#[test]
fn the_monthly_xlsx_reads_back_with_its_tables_and_numbers() {
    let bytes = render_xlsx(&monthly().to_document()).unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    let range = book.worksheet_range("报告").unwrap();
    let cells: Vec<&Data> = range.used_cells().map(|(_, _, v)| v).collect();
    assert!(cells.contains(&&Data::String(
        "关于2026年10月督办事项办理情况的盘点报告".into()
    )));
    assert!(cells.contains(&&Data::String("干部科".into())));
    assert!(cells.contains(&&Data::Float(12.0)));
    assert!(cells.contains(&&Data::String("16.7%".into())));
    if font_installed() {
        assert!(has_media(&bytes));
    }
}

#[test]
fn the_weekly_summary_bulletin_and_annual_reconciliation_render_their_figures() {
    let weekly = WeeklyReport {
        header: header("督办事项周小结"),
        week_start: date(2026, 10, 26),
        week_end: date(2026, 10, 30),
        totals: totals(),
        moved: lagging(),
        stuck: vec![],
        coordination: lagging(),
    };
    let xml = part(
        &render_docx(&weekly.to_document()).unwrap(),
        "word/document.xml",
    );
    assert!(xml.contains("2026年10月26日至2026年10月30日"));
    assert!(xml.contains("本周有进展事项1件"));

    let bulletin = Bulletin {
        header: header("关于督办事项办理情况的通报"),
        scope: "截至2026年10月31日".into(),
        totals: totals(),
        praised: vec!["干部科".into(), "人才办".into()],
        criticized: lagging(),
        requirements: vec!["限期整改".into(), "按时反馈".into()],
    };
    let xml = part(
        &render_docx(&bulletin.to_document()).unwrap(),
        "word/document.xml",
    );
    for needle in [
        "督查通报第十七期",
        "干部科、人才办等单位",
        "四、工作要求",
        "1.限期整改",
        "2.按时反馈",
    ] {
        assert!(xml.contains(needle), "{needle} missing");
    }

    let annual = AnnualReconciliation {
        header: header("2026年度督办事项归零对账报告"),
        year: 2026,
        totals: totals(),
        by_outcome: vec![
            StatusCount {
                label: "办结销号".into(),
                count: 20,
            },
            StatusCount {
                label: "结转".into(),
                count: 2,
            },
        ],
        by_unit: units(),
        lines: vec![ReconLine {
            number: "DB-2026-007".into(),
            title: "村级组织阵地建设".into(),
            unit: "组织科".into(),
            outcome: "结转".into(),
            note: "跨年度项目".into(),
        }],
    };
    let doc = annual.to_document();
    let xml = part(&render_docx(&doc).unwrap(), "word/document.xml");
    for needle in [
        "对2026年度督办事项逐项对账",
        "办结销号",
        "90.9%",
        "跨年度项目",
    ] {
        assert!(xml.contains(needle), "{needle} missing");
    }
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(render_xlsx(&doc).unwrap())).unwrap();
    let range = book.worksheet_range("报告").unwrap();
    assert!(
        range
            .used_cells()
            .any(|(_, _, v)| *v == Data::String("跨年度项目".into()))
    );
}
