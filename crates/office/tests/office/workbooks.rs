//! A tiny generator of ledger workbooks: cells by row, merged regions, hidden columns/sheets.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

#[derive(Clone, Debug)]
pub enum C {
    T(&'static str),
    S(String),
    N(f64),
    D(u16, u8, u8),
    E,
}

pub use C::{D, E, N, S, T};

#[derive(Default)]
pub struct SheetSpec {
    pub name: String,
    pub rows: Vec<Vec<C>>,
    /// (first_row, first_col, last_row, last_col), 0-based.
    pub merges: Vec<(u32, u16, u32, u16)>,
    pub hidden_cols: Vec<u16>,
    pub hidden: bool,
}

impl SheetSpec {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
    pub fn row(mut self, cells: Vec<C>) -> Self {
        self.rows.push(cells);
        self
    }
    pub fn blank(mut self) -> Self {
        self.rows.push(vec![]);
        self
    }
    pub fn merge(mut self, r0: u32, c0: u16, r1: u32, c1: u16) -> Self {
        self.merges.push((r0, c0, r1, c1));
        self
    }
}

fn covered(merges: &[(u32, u16, u32, u16)], r: u32, c: u16) -> bool {
    merges
        .iter()
        .any(|&(r0, c0, r1, c1)| r >= r0 && r <= r1 && c >= c0 && c <= c1 && (r, c) != (r0, c0))
}

/// Builds an .xlsx in memory.
pub fn xlsx(sheets: Vec<SheetSpec>) -> Vec<u8> {
    let mut book = Workbook::new();
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let plain = Format::new();
    for s in sheets {
        let ws = book.add_worksheet();
        ws.set_name(&s.name).unwrap();
        for (r, row) in s.rows.iter().enumerate() {
            let r = r as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                if covered(&s.merges, r, c) {
                    continue;
                }
                match cell {
                    T(t) => drop(ws.write_string(r, c, *t).unwrap()),
                    S(t) => drop(ws.write_string(r, c, t).unwrap()),
                    N(n) => drop(ws.write_number(r, c, *n).unwrap()),
                    D(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        ws.write_date_with_format(r, c, &dt, &date_fmt).unwrap();
                    }
                    E => {}
                }
            }
        }
        for &(r0, c0, r1, c1) in &s.merges {
            let text = match s.rows.get(r0 as usize).and_then(|row| row.get(c0 as usize)) {
                Some(T(t)) => (*t).to_owned(),
                Some(S(t)) => t.clone(),
                Some(N(n)) => n.to_string(),
                _ => String::new(),
            };
            ws.merge_range(r0, c0, r1, c1, &text, &plain).unwrap();
        }
        for c in &s.hidden_cols {
            ws.set_column_hidden(*c).unwrap();
        }
        if s.hidden {
            ws.set_hidden(true);
        }
    }
    book.save_to_buffer().unwrap()
}

/// The standard single-row header used by several shapes.
pub fn header() -> Vec<C> {
    [
        "序号",
        "事项名称",
        "具体要求",
        "任务来源",
        "牵头领导",
        "牵头单位",
        "配合单位",
        "完成时限",
        "进展情况",
        "备注",
    ]
    .into_iter()
    .map(T)
    .collect()
}

/// A data row for [`header`].
pub fn matter(seq: u32, title: &'static str, unit: &'static str, deadline: C) -> Vec<C> {
    vec![
        N(f64::from(seq)),
        T(title),
        T("按要求推进"),
        T("部务会"),
        T("张三"),
        T(unit),
        T("办公室"),
        deadline,
        T("正在推进"),
        E,
    ]
}
