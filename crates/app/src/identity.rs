//! Identity: password policy, login, sessions, second factor and API tokens.

use taizhang_domain::password::PasswordPolicy;

use crate::{App, AppError, AppResult};

/// The password policy of the configured profile.
pub fn policy_of(app: &App) -> PasswordPolicy {
    if app.settings.password_profile == "dengbao" {
        PasswordPolicy::dengbao()
    } else {
        PasswordPolicy::standard()
    }
}

/// Check a new password against the configured policy (the history is checked where it is known).
pub fn check_password_policy(app: &App, password: &str, username: &str) -> AppResult<()> {
    policy_of(app)
        .check(password, username)
        .map_err(|e| AppError::invalid("password", "password_policy", e.to_string()))
}
