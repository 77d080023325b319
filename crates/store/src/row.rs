//! Reading columns the same way from SQLite and PostgreSQL rows.

use sqlx::Row;

use crate::StoreError;

/// Column access shared by both backends' rows, so row mappers are written once.
pub trait GetCol {
    fn i64(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_i64(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn flag(&self, col: &str) -> Result<bool, StoreError>;
}

macro_rules! impl_getcol {
    ($row:ty) => {
        impl GetCol for $row {
            fn i64(&self, col: &str) -> Result<i64, StoreError> {
                self.try_get::<i64, _>(col)
                    .map_err(|e| StoreError::Other(format!("column {col}: {e}")))
            }
            fn opt_i64(&self, col: &str) -> Result<Option<i64>, StoreError> {
                self.try_get::<Option<i64>, _>(col)
                    .map_err(|e| StoreError::Other(format!("column {col}: {e}")))
            }
            fn text(&self, col: &str) -> Result<String, StoreError> {
                self.try_get::<String, _>(col)
                    .map_err(|e| StoreError::Other(format!("column {col}: {e}")))
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                self.try_get::<Option<String>, _>(col)
                    .map_err(|e| StoreError::Other(format!("column {col}: {e}")))
            }
            fn flag(&self, col: &str) -> Result<bool, StoreError> {
                self.try_get::<bool, _>(col)
                    .map_err(|e| StoreError::Other(format!("column {col}: {e}")))
            }
        }
    };
}

impl_getcol!(sqlx::sqlite::SqliteRow);
impl_getcol!(sqlx::postgres::PgRow);

/// The position of column `col` among a result's column `names`, looked for first where `next`
/// points: mappers read the columns in select order, so the name is found at once (rusqlite's
/// own lookup by name compares every name, which made a 40-column matter row cost 1,600
/// comparisons; a hash of every name cost more than the lookup it saved). Moves `next` past the
/// column found.
pub(crate) fn column_index<S: AsRef<str>>(
    names: &[S],
    next: &std::cell::Cell<usize>,
    col: &str,
) -> Option<usize> {
    let hint = next.get();
    let at = if names.get(hint).is_some_and(|n| n.as_ref() == col) {
        Some(hint)
    } else {
        names.iter().position(|n| n.as_ref() == col)
    }?;
    next.set(at + 1);
    Some(at)
}
