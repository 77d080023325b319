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
