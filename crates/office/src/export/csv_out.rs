//! The ledger as CSV: UTF-8 with a BOM (so Excel in a zh-CN locale does not read it as GBK),
//! one header row, formula-like values prefixed with an apostrophe.

use std::io::Write;

use super::{ExportError, LedgerRow, headers, text_cells};
use crate::text::neutralize_formula;

/// Writes `rows` as CSV with a BOM.
pub fn write_ledger_csv<W: Write>(rows: &[LedgerRow], out: W) -> Result<(), ExportError> {
    let mut w = LedgerCsvWriter::new(out)?;
    for r in rows {
        w.push(r)?;
    }
    w.finish()?;
    Ok(())
}

/// The ledger as CSV, written row by row: the BOM and the header row on [`LedgerCsvWriter::new`],
/// then one line per [`LedgerCsvWriter::push`]; nothing of a row is kept once written.
pub struct LedgerCsvWriter<W: Write> {
    w: csv::Writer<W>,
    rows: u64,
}

impl<W: Write> LedgerCsvWriter<W> {
    /// Writes the BOM and the header row.
    pub fn new(mut out: W) -> Result<Self, ExportError> {
        out.write_all(b"\xEF\xBB\xBF")?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        w.write_record(headers().iter().map(|h| neutralize_formula(h).into_owned()))?;
        Ok(Self { w, rows: 0 })
    }

    /// Appends one line.
    pub fn push(&mut self, row: &LedgerRow) -> Result<(), ExportError> {
        self.w.write_record(
            text_cells(row)
                .iter()
                .map(|v| neutralize_formula(v).into_owned()),
        )?;
        self.rows += 1;
        Ok(())
    }

    /// Lines written so far (without the header).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> Result<W, ExportError> {
        self.w.into_inner().map_err(|e| e.into_error().into())
    }
}
