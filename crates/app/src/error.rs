//! Use-case errors: precise variants that the web layer maps to status codes in one place.

use taizhang_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not logged in, or the credentials are wrong (one message for both).
    #[error("用户名或密码错误")]
    BadCredentials,
    /// The account is locked after too many failures.
    #[error("账号已锁定，请 {minutes} 分钟后再试或联系安全管理员")]
    Locked { minutes: i64 },
    /// Logged in, but the session needs something first (password change, second factor).
    #[error("{0}")]
    NeedsStep(String),
    /// The policy refused the action.
    #[error("无权执行此操作")]
    Forbidden,
    /// The policy refused because the object is outside the actor's scope; answered exactly like
    /// [`AppError::NotFound`] so ids cannot be probed, but audited as a denial.
    #[error("未找到或无权查看")]
    OutOfScope,
    /// The object does not exist or is outside the actor's scope (the same answer for both).
    #[error("未找到：{0}")]
    NotFound(String),
    /// Input broke a rule; `field` names the form field when there is one.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        code: String,
        message: String,
    },
    /// A uniqueness or state conflict (someone else changed it, duplicate number…).
    #[error("{0}")]
    Conflict(String),
    /// The database is unreachable.
    #[error("数据库暂不可用")]
    Unavailable(String),
    /// Anything else: logged at the boundary, shown as a generic message.
    #[error("内部错误")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: Some(field.to_owned()),
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn rule(code: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: None,
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Conflict(what) => AppError::Conflict(format!("数据冲突：{what}")),
            StoreError::Unavailable(why) => AppError::Unavailable(why),
            StoreError::Other(why) => AppError::Internal(why),
        }
    }
}
