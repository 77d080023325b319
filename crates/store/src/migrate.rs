//! Embedded migrations, one folder per backend with the same file names.
//! Never edit a migration once it has been released; add the next number.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

macro_rules! migrations {
    ($dir:literal: $($ver:literal $name:literal),* $(,)?) => {
        vec![$(Migration::new(
            $ver,
            Cow::Borrowed($name),
            MigrationType::Simple,
            include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")).into_sql_str(),
            false,
        )),*]
    };
}

pub(crate) fn sqlite() -> Migrator {
    Migrator::with_migrations(migrations!("sqlite":
        1 "0001_foundation",
        2 "0002_ledger",
        3 "0003_notify",
        4 "0004_import",
        5 "0005_attachments",
        6 "0006_daily_check_speed",
        7 "0007_list_indexes",
    ))
}

pub(crate) fn postgres() -> Migrator {
    Migrator::with_migrations(migrations!("postgres":
        1 "0001_foundation",
        2 "0002_ledger",
        3 "0003_notify",
        4 "0004_import",
        5 "0005_attachments",
        6 "0006_daily_check_speed",
        7 "0007_list_indexes",
    ))
}
