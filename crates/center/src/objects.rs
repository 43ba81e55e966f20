//! The objects a request names, loaded and checked by the policy: a member of another
//! organisation is told they do not exist.

use std::sync::Arc;

use crate::Center;
use crate::directory::Job;
use crate::error::ApiError;
use crate::exchange::{Call, on_directory};
use crate::policy::{self, Action, Principal};

/// The organisation a request acts for: a member's own (naming another is answered as if it
/// did not exist), or the one staff name, which must exist.
pub(crate) async fn acting_organisation(
    center: &Arc<Center>,
    who: &Principal,
    named: Option<String>,
) -> Result<String, ApiError> {
    match (policy::visible_organisation(who), named) {
        (Some(own), None) => Ok(own.to_string()),
        (Some(own), Some(n)) if n == own => Ok(n),
        (Some(_), Some(_)) => Err(ApiError::not_found().at("organisation")),
        (None, None) => Err(ApiError::bad_request(
            "give the `organisation` this is for",
            "请指定 `organisation`",
        )
        .at("organisation")),
        (None, Some(n)) => {
            let name = n.clone();
            if on_directory(center, move |d| d.org_exists(&name)).await? {
                Ok(n)
            } else {
                Err(ApiError::not_found().at("organisation"))
            }
        }
    }
}

/// The job the path names, if the caller may see it (else 404).
pub(crate) async fn load_job(
    center: &Arc<Center>,
    call: &Call,
    action: Action,
) -> Result<Job, ApiError> {
    let id = call.param(0).to_string();
    let job = on_directory(center, move |d| d.job(&id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    policy::decide_object(call.who()?, action, &job.organisation)?;
    Ok(job)
}
