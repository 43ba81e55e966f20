//! What people type, checked before it is used or stored: names, free text, passwords.

use crate::error::ApiError;

/// A name that appears in paths and logs: 1 to 64 of letters, digits, `.`, `_`, `-`, starting
/// with a letter or digit.
pub(crate) fn check_name(value: &str, field: &str) -> Result<(), ApiError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            format!("`{field}` must be 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"),
            format!("`{field}` 须为 1 至 64 个字母、数字、`.`、`_` 或 `-`，以字母或数字开头"),
        )
        .at(field))
    }
}

/// Free text shown to people: at most `max` characters, no control characters.
pub(crate) fn check_text(value: &str, field: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            format!("`{field}` must be at most {max} characters without control characters"),
            format!("`{field}` 最多 {max} 个字符，且不含控制字符"),
        )
        .at(field));
    }
    Ok(())
}

pub(crate) fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 12 || password.len() > 1024 {
        return Err(ApiError::bad_request(
            "a password has 12 to 1024 characters",
            "密码长度须为 12 至 1024 个字符",
        )
        .at("password"));
    }
    Ok(())
}
