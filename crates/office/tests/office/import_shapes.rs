//! Ledger shapes offices really make, generated here and imported.

use jiff::civil::date;
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_office::{
    CanonicalField, ImportOptions, ParsedDeadline, ParsedWorkbook, read_ledger,
    read_ledger_with_mapping,
};

use super::workbooks::{D, E, N, S, SheetSpec, T, header, matter, xlsx};

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

#[test]
fn shape_1_a_plain_header_with_date_cells_imports_every_row_and_refuses_an_impossible_date() {
    let bytes = xlsx(vec![
        SheetSpec::new("Sheet1")
            .row(header())
            .row(matter(1, "推进干部教育培训", "干部教育科", D(2026, 3, 20)))
            .row(matter(2, "完善人才政策", "人才办", D(2026, 6, 30)))
            .row(matter(
                3,
                "开展基层党建述职评议",
                "组织科",
                T("2026年2月30日"),
            ))
            .row(matter(4, "做好党员发展工作", "组织科", N(46203.0))),
    ]);
    let p = read(&bytes, "台账.xlsx");
    let s = p.summary();
    assert_eq!(s.matters, 3);
    assert_eq!(s.refused.len(), 1);
    assert_eq!(s.refused[0].row, 4);
    assert!(
        s.refused[0].reason.contains("2026年2月只有28天"),
        "{}",
        s.refused[0].reason
    );
    assert_eq!(deadline_of(&p, "推进干部教育培训"), on(2026, 3, 20));
    assert_eq!(deadline_of(&p, "做好党员发展工作"), on(2026, 6, 30));
    let m = &p.matters[0];
    assert_eq!(
        (
            m.row,
            m.lead_unit_names.clone(),
            m.assisting_unit_names.clone()
        ),
        (2, vec!["干部教育科".to_owned()], vec!["办公室".to_owned()])
    );
    assert_eq!(m.lead_leader_name, "张三");
}

#[test]
fn shape_2_title_and_subtitle_rows_give_the_year_and_text_dates_of_every_form_parse() {
    let texts: Vec<(&'static str, ParsedDeadline, Option<FeedbackCycle>)> = vec![
        ("2026年3月20日", on(2026, 3, 20), None),
        ("2026.3.21", on(2026, 3, 21), None),
        ("2026/3/22", on(2026, 3, 22), None),
        ("2026-03-23", on(2026, 3, 23), None),
        ("3月底", end(2026, 3, 31), None),
        ("6月底前", end(2026, 6, 30), None),
        ("年底前", end(2026, 12, 31), None),
        ("2026年第二季度", end(2026, 6, 30), None),
        ("二季度末", end(2026, 6, 30), None),
        (
            "每月5日前",
            ParsedDeadline::Missing,
            Some(FeedbackCycle::MonthlyDay { day: 5 }),
        ),
        (
            "9月底前完成，每周五报送进展",
            end(2026, 9, 30),
            Some(FeedbackCycle::Weekly { weekday: 5 }),
        ),
        (
            "长期坚持",
            ParsedDeadline::NoFixed {
                text: "长期坚持".into(),
            },
            None,
        ),
        (
            "持续推进",
            ParsedDeadline::NoFixed {
                text: "持续推进".into(),
            },
            None,
        ),
        ("２０２６年１１月３０日", on(2026, 11, 30), None),
    ];
    let mut sheet = SheetSpec::new("台账")
        .row(vec![T("2026年度督办事项台账")])
        .row(vec![T(
            "填报单位：组织科\u{3000}\u{3000}填报日期：2026年3月1日",
        )])
        .row(header())
        .merge(0, 0, 0, 9)
        .merge(1, 0, 1, 9);
    for (i, (t, _, _)) in texts.iter().enumerate() {
        sheet = sheet.row(vec![
            N(i as f64 + 1.0),
            S(format!("事项{}", i + 1)),
            E,
            E,
            E,
            T("组织科"),
            E,
            T(t),
        ]);
    }
    let p = read(&xlsx(vec![sheet]), "x.xlsx");
    assert_eq!(p.refused, vec![]);
    assert_eq!(p.sheets[0].year, Some(2026));
    assert_eq!(p.sheets[0].reporting_unit.as_deref(), Some("组织科"));
    assert_eq!(p.sheets[0].mapping.header_row, 3);
    for (i, (t, want, cycle)) in texts.iter().enumerate() {
        let m = &p.matters[i];
        assert_eq!(&m.deadline, want, "{t}");
        assert_eq!(&m.feedback_cycle, cycle, "{t}");
        assert_eq!(m.row, i as u32 + 4);
    }
    assert_eq!(p.summary().no_fixed_deadline, 2);
}

#[test]
fn shape_3_a_two_row_header_with_merged_parents_maps_every_child_column() {
    let parents = vec![
        T("序号"),
        T("基本信息"),
        E,
        E,
        T("责任分工"),
        E,
        E,
        T("时限与进度"),
        E,
        T("备注"),
    ];
    let children = vec![
        E,
        T("工作任务"),
        T("工作目标"),
        T("交办来源"),
        T("分管领导"),
        T("承办单位"),
        T("协办单位"),
        T("办结时限"),
        T("工作进展"),
        E,
    ];
    let bytes = xlsx(vec![
        SheetSpec::new("2026")
            .row(vec![T("重点工作任务清单")])
            .row(parents)
            .row(children)
            .row(vec![
                N(1.0),
                T("建强干部队伍"),
                T("完成轮训"),
                T("年度重点"),
                T("李四"),
                T("干部科（监督室）"),
                T("组织科、人才办"),
                T("12月底"),
                T("已启动"),
                T("无"),
            ])
            .row(vec![
                N(2.0),
                T("抓好人才引进"),
                T("引进10人"),
                T("领导批示"),
                T("王五"),
                T("人才办"),
                E,
                T("2026年9月30日"),
                E,
                E,
            ])
            .merge(0, 0, 0, 9)
            .merge(1, 0, 2, 0)
            .merge(1, 1, 1, 3)
            .merge(1, 4, 1, 6)
            .merge(1, 7, 1, 8)
            .merge(1, 9, 2, 9),
    ]);
    let p = read(&bytes, "x.xlsx");
    let map = &p.sheets[0].mapping;
    assert_eq!(map.header_row, 3);
    for f in [
        CanonicalField::Seq,
        CanonicalField::Title,
        CanonicalField::Requirements,
        CanonicalField::Source,
        CanonicalField::LeadLeader,
        CanonicalField::LeadUnit,
        CanonicalField::AssistingUnits,
        CanonicalField::Deadline,
        CanonicalField::Progress,
        CanonicalField::Remarks,
    ] {
        assert!(map.column_of(f).is_some(), "{f:?} not mapped: {map:?}");
    }
    assert_eq!(p.matters.len(), 2);
    let m = &p.matters[0];
    assert_eq!(m.lead_unit_names, vec!["干部科(监督室)"]);
    assert_eq!(m.assisting_unit_names, vec!["组织科", "人才办"]);
    assert_eq!(m.deadline, end(2026, 12, 31));
    assert_eq!(m.remarks, "无");
}

#[test]
fn shape_4_a_matter_merged_over_several_rows_yields_one_matter_with_a_milestone_per_row() {
    let bytes = xlsx(vec![
        SheetSpec::new("2026年")
            .row(header())
            .row(vec![
                N(1.0),
                T("建设干部监督信息平台"),
                T("完成需求调研"),
                T("部务会"),
                T("张三"),
                T("干部监督室"),
                E,
                T("3月底"),
                T("已完成调研"),
                E,
            ])
            .row(vec![
                E,
                E,
                T("完成系统开发"),
                E,
                E,
                E,
                E,
                T("6月底前"),
                E,
                E,
            ])
            .row(vec![
                E,
                E,
                T("上线运行"),
                E,
                E,
                E,
                E,
                T("2026年9月30日"),
                E,
                E,
            ])
            .row(matter(2, "修订考核办法", "考核办", D(2026, 5, 31)))
            .merge(1, 0, 3, 0)
            .merge(1, 1, 3, 1)
            .merge(1, 3, 3, 3)
            .merge(1, 4, 3, 4)
            .merge(1, 5, 3, 5),
    ]);
    let p = read(&bytes, "x.xlsx");
    let s = p.summary();
    assert_eq!((s.matters, s.milestones, s.refused.len()), (2, 3, 0));
    let m = &p.matters[0];
    assert_eq!(m.deadline.date(), Some(date(2026, 9, 30)));
    let ms: Vec<(u32, &str, Option<jiff::civil::Date>)> = m
        .milestones
        .iter()
        .map(|x| (x.row, x.title.as_str(), x.date))
        .collect();
    assert_eq!(
        ms,
        vec![
            (2, "完成需求调研", Some(date(2026, 3, 31))),
            (3, "完成系统开发", Some(date(2026, 6, 30))),
            (4, "上线运行", Some(date(2026, 9, 30)))
        ]
    );
    assert_eq!(m.requirements, "完成需求调研\n完成系统开发\n上线运行");
}

#[test]
fn shape_5_milestone_columns_spacer_rows_sections_subtotals_and_footers_are_handled() {
    let hdr = vec![
        T("序号"),
        T("事项名称"),
        T("牵头单位"),
        T("完成时限"),
        T("节点名称"),
        T("节点时间"),
    ];
    let bytes = xlsx(vec![
        SheetSpec::new("清单")
            .row(hdr)
            .row(vec![T("一、党的建设")])
            .row(vec![
                N(1.0),
                T("开展主题教育"),
                T("组织科"),
                T("年底前"),
                T("制定方案"),
                T("2026.4.10"),
            ])
            .row(vec![E, E, E, E, T("组织实施"), T("2026.8.31")])
            .blank()
            .blank()
            .row(vec![T("二、干部工作")])
            .row(vec![
                N(2.0),
                T("年轻干部选育"),
                T("干部科"),
                T("2026年11月30日"),
                E,
                E,
            ])
            .row(vec![T("小计"), E, E, N(2.0)])
            .row(vec![
                N(3.0),
                T("干部档案专项审核"),
                T("干部科"),
                T("10月底前"),
                E,
                E,
            ])
            .row(vec![T("合计"), E, E, N(3.0)])
            .row(vec![T("说明：本表每月5日前报送")])
            .row(matter(9, "不应导入的页脚之后的行", "组织科", T("12月底")))
            .merge(1, 0, 1, 5)
            .merge(2, 0, 3, 0)
            .merge(2, 1, 3, 1)
            .merge(2, 2, 3, 2)
            .merge(2, 3, 3, 3),
    ]);
    let opts = ImportOptions {
        year: Some(2026),
        ..ImportOptions::default()
    };
    let p = read_ledger(&bytes, "x.xlsx", &opts).unwrap();
    let s = p.summary();
    assert_eq!(
        (s.matters, s.milestones, s.refused.len()),
        (3, 2, 0),
        "{:?}",
        p.refused
    );
    assert_eq!(p.matters[0].deadline, end(2026, 12, 31));
    assert_eq!(p.matters[0].milestones[1].date, Some(date(2026, 8, 31)));
    let skipped: Vec<u32> = p.sheets[0].skipped.iter().map(|s| s.row).collect();
    assert_eq!(skipped, vec![2, 7, 9]);
}

#[test]
fn shape_6_hidden_columns_hidden_sheets_and_messy_unit_names_are_tolerated() {
    let hdr = vec![
        T("序号"),
        T("辅助列"),
        T("事项名称"),
        T("牵头单位"),
        T("配合单位"),
        T("完成时限"),
    ];
    let bytes = xlsx(vec![
        SheetSpec {
            hidden_cols: vec![1],
            ..SheetSpec::new("台账").row(hdr).row(vec![
                N(1.0),
                T("=VLOOKUP(A2)"),
                T("  落实 谈心谈话\n制度 "),
                T(" 组织科 （党员教育中心） "),
                T("干部科、人才办；  办公室"),
                T("2026年12月31日"),
            ])
        },
        SheetSpec {
            hidden: true,
            ..SheetSpec::new("下拉选项")
                .row(vec![T("事项名称"), T("牵头单位")])
                .row(vec![T("隐藏表的行"), T("组织科")])
        },
    ]);
    let p = read(&bytes, "x.xlsx");
    assert_eq!(p.sheets.len(), 1);
    let m = &p.matters[0];
    assert_eq!(m.title, "落实谈心谈话制度");
    assert_eq!(m.lead_unit_names, vec!["组织科(党员教育中心)"]);
    assert_eq!(m.assisting_unit_names, vec!["干部科", "人才办", "办公室"]);
}

#[test]
fn shape_8_synonym_headers_and_a_corrected_mapping_are_both_honoured() {
    let hdr = [
        "重点任务",
        "目标要求",
        "任务来源",
        "责任领导",
        "责任处室",
        "协办单位",
        "完成时间",
        "推进情况",
        "存在问题",
        "下步措施",
        "办理状态",
        "备注",
        "说明文字",
    ];
    let bytes = xlsx(vec![
        SheetSpec::new("S")
            .row(hdr.iter().map(|h| T(h)).collect())
            .row(vec![
                T("优化营商环境"),
                T("目标"),
                T("上级文件"),
                T("赵六"),
                T("办公室"),
                E,
                T("2026-10-31"),
                T("进展"),
                T("问题"),
                T("打算"),
                T("办理中"),
                T("备注"),
                T("额外"),
            ]),
    ]);
    let p = read(&bytes, "x.xlsx");
    let m = &p.matters[0];
    assert_eq!(
        (
            m.problems.as_str(),
            m.next_steps.as_str(),
            m.status_text.as_str()
        ),
        ("问题", "打算", "办理中")
    );
    assert_eq!(m.deadline, on(2026, 10, 31));
    // The user maps the unrecognized 说明文字 column onto 备注 and drops the original 备注.
    let mut mapping = p.mappings().remove(0);
    for c in &mut mapping.columns {
        if c.header == "备注" {
            c.field = None;
        } else if c.header == "说明文字" {
            c.field = Some(CanonicalField::Remarks);
        }
    }
    let q =
        read_ledger_with_mapping(&bytes, "x.xlsx", &ImportOptions::default(), &[mapping]).unwrap();
    assert_eq!(q.matters[0].remarks, "额外");
}
