//! Integration tests of taizhang-office: ledger workbooks generated here with rust_xlsxwriter
//! in the shapes offices make, imported and checked against what the generator put in; bad
//! input; export → import round trips; reports parsed back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod export_roundtrip;
mod import_shapes;
mod import_sheets;
mod reports;
mod workbooks;
