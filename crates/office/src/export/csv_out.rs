//! The ledger as CSV: UTF-8 with a BOM (so Excel in a zh-CN locale does not read it as GBK),
//! one header row, formula-like values prefixed with an apostrophe.

use std::io::Write;

use super::{ExportError, LedgerRow, headers, text_cells};
use crate::text::neutralize_formula;

/// Writes `rows` as CSV with a BOM.
pub fn write_ledger_csv<W: Write>(rows: &[LedgerRow], mut out: W) -> Result<(), ExportError> {
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(headers().iter().map(|h| neutralize_formula(h).into_owned()))?;
    for r in rows {
        w.write_record(
            text_cells(r)
                .iter()
                .map(|v| neutralize_formula(v).into_owned()),
        )?;
    }
    w.flush()?;
    Ok(())
}
